package org.minifaas.common.nats;

import io.nats.client.JetStreamApiException;
import io.nats.client.api.StreamConfiguration;
import io.nats.client.api.StreamInfo;
import io.nats.client.support.NatsKeyValueUtil;
import io.nats.client.support.NatsObjectStoreUtil;
import java.io.IOException;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.util.ArrayList;
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
     * How long a fenced stream is left before it is read again: longer than a writer waits for JetStream's answer
     * (jnats's request timeout is the connection timeout, 5 s), so a write the server took in before the fence has
     * been stored by then, or its writer has timed out and asks again, into the fence or into a stream made anew.
     */
    public static final Duration SETTLE = Duration.ofSeconds(6);

    /**
     * At most this many streams are fenced by one sweep (the rest wait for the next): the first one fenced stays
     * fenced while the others are, so a long list would hold a user's writes past what the frontend retries (15 s).
     */
    static final int MAX_FENCED = 100;

    /**
     * Deletes every per-task result stream and per-user status stream that holds no message and saw no activity for
     * {@code idle} (the margin that protects a bucket being created right now). Seen empty in a listing is not
     * enough: a task created between the listing and the deletion would go with the stream after its user was told it
     * was accepted. So the candidates' subjects are first moved to ones nobody writes to (a write then finds no stream,
     * fails, and is retried by its writer), then, after {@link #SETTLE}, each is read again and deleted only if it is
     * still empty; otherwise it gets its subjects back. Blocks for that time when there are candidates; a stream left
     * fenced by a sweep that stopped halfway is finished by the next one.
     *
     * @return how many streams were deleted
     */
    public int sweep(Duration idle) throws IOException, JetStreamApiException, InterruptedException {
        return sweep(idle, SETTLE);
    }

    /** As {@link #sweep(Duration)}, with the time fenced streams are left before they are read again (tests). */
    public int sweep(Duration idle, Duration settle) throws IOException, JetStreamApiException, InterruptedException {
        String results = NatsObjectStoreUtil.toStreamName(BucketNames.RESULT_PREFIX);
        String users = NatsKeyValueUtil.toStreamName(BucketNames.USER_PREFIX);
        ZonedDateTime cutoff = ZonedDateTime.now().minus(idle);
        List<String> fenced = new ArrayList<>();
        try {
            // one request per page of 256 streams, not one per stream
            for (StreamInfo info : layer.jsm().getStreams()) {
                String name = info.getConfiguration().getName();
                if (!name.startsWith(results) && !name.startsWith(users)) {
                    continue;
                }
                if (isFenced(info)) {
                    fenced.add(name); // left by a sweep that stopped halfway: finished with these
                    continue;
                }
                if (info.getStreamState().getMsgCount() > 0) {
                    continue;
                }
                ZonedDateTime last = info.getStreamState().getLastTime();
                ZonedDateTime active = last != null && last.isAfter(info.getCreateTime()) ? last : info.getCreateTime();
                if (active.isBefore(cutoff) && fenced.size() < MAX_FENCED) {
                    // from a fresh read, so that a limit changed since the listing is not undone; recorded first, so
                    // that a fence applied by a request that then failed is undone all the same
                    Optional<StreamInfo> now = layer.streams().streamInfo(name);
                    if (now.isEmpty() || now.get().getStreamState().getMsgCount() > 0) {
                        continue;
                    }
                    fenced.add(name);
                    layer.jsm()
                            .updateStream(StreamConfiguration.builder(now.get().getConfiguration())
                                    .subjects(fence(name))
                                    .build());
                }
            }
            if (fenced.isEmpty()) {
                return 0;
            }
            Thread.sleep(settle.toMillis());
        } catch (IOException | JetStreamApiException | InterruptedException | RuntimeException e) {
            restoreAll(fenced);
            throw e;
        }
        int deleted = 0;
        for (int i = 0; i < fenced.size(); i++) {
            try {
                if (finish(fenced.get(i))) {
                    deleted++;
                }
            } catch (IOException | JetStreamApiException | RuntimeException e) {
                restoreAll(fenced.subList(i, fenced.size()));
                throw e;
            }
        }
        if (deleted > 0) {
            log.info("retention: deleted {} expired stream(s)", deleted);
        }
        return deleted;
    }

    /** Deletes a fenced stream if it is still fenced and empty; otherwise gives it its subjects back. */
    private boolean finish(String name) throws IOException, JetStreamApiException {
        Optional<StreamInfo> now = layer.streams().streamInfo(name);
        if (now.isEmpty() || !isFenced(now.get())) {
            return false; // gone, or given its subjects back by someone else
        }
        if (now.get().getStreamState().getMsgCount() == 0 && layer.streams().deleteStream(name)) {
            return true;
        }
        restore(name);
        return false;
    }

    /**
     * Gives fenced streams their subjects back, whatever stopped the sweep: an interrupt (the observer stopping) is
     * set aside meanwhile, else the NATS client would refuse every request, and a fence left behind would refuse the
     * user's writes until the next sweep.
     */
    private void restoreAll(List<String> fenced) {
        boolean interrupted = Thread.interrupted();
        try {
            for (String name : fenced) {
                try {
                    restore(name);
                } catch (IOException | JetStreamApiException | RuntimeException e) {
                    log.warn("retention: stream {} left fenced until the next sweep: {}", name, e.toString());
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    static boolean isFenced(StreamInfo info) {
        return info.getConfiguration()
                .getSubjects()
                .equals(List.of(fence(info.getConfiguration().getName())));
    }

    /** Gives a fenced stream its own subjects back (those its bucket's kind has, told by its name). */
    private void restore(String name) throws IOException, JetStreamApiException {
        Optional<StreamInfo> now = layer.streams().streamInfo(name);
        if (now.isEmpty() || !isFenced(now.get())) {
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
