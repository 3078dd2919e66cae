package org.minifaas.common.nats;

import io.nats.client.JetStreamApiException;
import io.nats.client.api.StreamConfiguration;
import io.nats.client.api.StreamInfo;
import io.nats.client.support.NatsKeyValueUtil;
import io.nats.client.support.NatsObjectStoreUtil;
import java.io.IOException;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.util.List;
import java.util.Optional;
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
            if (!name.startsWith(results) && !name.startsWith(users)) {
                continue;
            }
            if (info.getConfiguration().getSubjects().equals(List.of(fence(name)))) {
                // a sweep stopped between fencing a stream and deleting or restoring it
                if (deleteIfStillEmpty(name)) {
                    deleted++;
                }
                continue;
            }
            if (info.getStreamState().getMsgCount() > 0) {
                continue;
            }
            ZonedDateTime last = info.getStreamState().getLastTime();
            ZonedDateTime active = last != null && last.isAfter(info.getCreateTime()) ? last : info.getCreateTime();
            if (active.isBefore(cutoff) && deleteIfStillEmpty(name)) {
                deleted++;
            }
        }
        if (deleted > 0) {
            log.info("retention: deleted {} expired stream(s)", deleted);
        }
        return deleted;
    }

    /**
     * Deletes a per-user or per-task stream if it is still empty once no write can reach it. Seen empty in a listing
     * is not enough: a task created between the listing and the deletion would be deleted with the stream, after its
     * user was told it was accepted. So the stream's subjects are first moved to one nobody writes to (a write then
     * finds no stream, fails, and is retried by its writer), its state is read again, and the stream is deleted only
     * if it is still empty; otherwise it gets its subjects back.
     *
     * @return whether it was deleted
     */
    boolean deleteIfStillEmpty(String name) throws IOException, JetStreamApiException {
        Optional<StreamInfo> before = layer.streams().streamInfo(name);
        if (before.isEmpty()) {
            return false;
        }
        layer.jsm()
                .updateStream(StreamConfiguration.builder(before.get().getConfiguration())
                        .subjects(fence(name))
                        .build());
        boolean deleted = false;
        try {
            Optional<StreamInfo> fenced = layer.streams().streamInfo(name);
            if (fenced.isEmpty()) {
                return false;
            }
            if (fenced.get().getStreamState().getMsgCount() == 0) {
                deleted = layer.streams().deleteStream(name);
            }
            return deleted;
        } finally {
            if (!deleted) {
                restore(name);
            }
        }
    }

    /** Gives a fenced stream its own subjects back (those its bucket's kind has, told by its name). */
    private void restore(String name) throws IOException, JetStreamApiException {
        Optional<StreamInfo> now = layer.streams().streamInfo(name);
        if (now.isEmpty()) {
            return;
        }
        List<String> subjects;
        if (name.startsWith(NatsKeyValueUtil.toStreamName(""))) {
            subjects = List.of(NatsKeyValueUtil.toStreamSubject(NatsKeyValueUtil.extractBucketName(name)));
        } else {
            String bucket = NatsObjectStoreUtil.extractBucketName(name);
            subjects = List.of(
                    NatsObjectStoreUtil.toChunkStreamSubject(bucket), NatsObjectStoreUtil.toMetaStreamSubject(bucket));
        }
        layer.jsm()
                .updateStream(StreamConfiguration.builder(now.get().getConfiguration())
                        .subjects(subjects)
                        .build());
    }

    /** The subject a stream has while it is checked for deletion: no writer uses it. */
    static String fence(String streamName) {
        return "minifaas.sweeping." + streamName;
    }
}
