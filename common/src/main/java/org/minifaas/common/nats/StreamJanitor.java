package org.minifaas.common.nats;

import io.nats.client.JetStreamApiException;
import io.nats.client.api.StreamInfo;
import io.nats.client.support.NatsKeyValueUtil;
import io.nats.client.support.NatsObjectStoreUtil;
import java.io.IOException;
import java.time.Duration;
import java.time.ZonedDateTime;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deletes the streams that retention emptied. JetStream expires the messages of a bucket but never
 * the bucket itself, so without this every task would leave an empty result stream behind (the
 * original system reached thousands of them) and every past user an empty status bucket.
 */
public final class StreamJanitor {
    private static final Logger log = LoggerFactory.getLogger(StreamJanitor.class);

    private final NatsLayer layer;

    StreamJanitor(NatsLayer layer) {
        this.layer = layer;
    }

    /**
     * Deletes every per-task result stream and per-user status stream that holds no message and
     * saw no activity for {@code idle} (the margin that protects a bucket being created right now).
     *
     * @return how many streams were deleted
     */
    public int sweep(Duration idle) throws IOException, JetStreamApiException {
        String results = NatsObjectStoreUtil.toStreamName(BucketNames.RESULT_PREFIX);
        String users = NatsKeyValueUtil.toStreamName(BucketNames.USER_PREFIX);
        ZonedDateTime cutoff = ZonedDateTime.now().minus(idle);
        int deleted = 0;
        // one request per page of 256 streams, not one per stream
        for (StreamInfo info : layer.jsm().getStreams()) {
            String name = info.getConfiguration().getName();
            if (!name.startsWith(results) && !name.startsWith(users)
                    || info.getStreamState().getMsgCount() > 0) {
                continue;
            }
            ZonedDateTime last = info.getStreamState().getLastTime();
            ZonedDateTime active = last != null && last.isAfter(info.getCreateTime()) ? last : info.getCreateTime();
            if (active.isBefore(cutoff) && layer.streams().deleteStream(name)) {
                deleted++;
            }
        }
        if (deleted > 0) {
            log.info("retention: deleted {} expired stream(s)", deleted);
        }
        return deleted;
    }
}
