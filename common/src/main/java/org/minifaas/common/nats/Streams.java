package org.minifaas.common.nats;

import io.nats.client.Connection;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamManagement;
import io.nats.client.KeyValue;
import io.nats.client.PurgeOptions;
import io.nats.client.api.AckPolicy;
import io.nats.client.api.ConsumerConfiguration;
import io.nats.client.api.KeyValueConfiguration;
import io.nats.client.api.RetentionPolicy;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import io.nats.client.api.StreamInfo;
import io.nats.client.support.NatsKeyValueUtil;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stream administration: the single get-or-create helper ({@link #ensureStream}) every queue and bucket is made
 * through, with NATS_REPLICAS copies, and the few other JetStream management calls the layer needs.
 */
final class Streams {
    private static final Logger log = LoggerFactory.getLogger(Streams.class);

    /** JetStream's own default: messages handed out and not yet acknowledged, beyond which none is handed out. */
    static final long DEFAULT_MAX_ACK_PENDING = 1000;

    private final Connection connection;
    private final JetStreamManagement jsm;
    private final int replicas;

    Streams(Connection connection, JetStreamManagement jsm, int replicas) {
        this.connection = connection;
        this.jsm = jsm;
        this.replicas = replicas;
    }

    /** Stream info, or empty when the stream does not exist. */
    Optional<StreamInfo> streamInfo(String stream) throws IOException, JetStreamApiException {
        try {
            return Optional.of(jsm.getStreamInfo(stream));
        } catch (JetStreamApiException e) {
            if (ApiErrors.is(e, ApiErrors.STREAM_NOT_FOUND)) {
                return Optional.empty();
            }
            throw e;
        }
    }

    /**
     * The single get-or-create helper: creates the stream when missing, with NATS_REPLICAS copies, and brings an
     * existing stream to the wanted configuration when they differ (a changed quota, retention or replica count).
     * Safe when several processes race to create the same stream.
     */
    StreamInfo ensureStream(StreamConfiguration config) throws IOException, JetStreamApiException {
        StreamConfiguration wanted =
                StreamConfiguration.builder(config).replicas(replicas).build();
        Optional<StreamInfo> existing = streamInfo(wanted.getName());
        if (existing.isEmpty()) {
            try {
                // a cluster still forming cannot place a replicated stream for a few seconds: asked again
                return Retries.<StreamInfo, RuntimeException>repeatable(
                        "create stream " + wanted.getName(), Retries.CLUSTER_FORMING, () -> jsm.addStream(wanted));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while creating stream " + wanted.getName());
            } catch (JetStreamApiException e) {
                if (!ApiErrors.is(e, ApiErrors.STREAM_NAME_IN_USE)) {
                    throw e;
                }
                existing = streamInfo(wanted.getName());
                if (existing.isEmpty()) {
                    throw e;
                }
            }
        }
        StreamConfiguration have = existing.get().getConfiguration();
        if (StreamJanitor.isFenced(existing.get())) {
            // the retention sweep is deciding whether to delete it: an update now would give it its subjects back
            // behind the sweep's back (its writes are refused meanwhile and retried; it is restored or deleted soon)
            return existing.get();
        }
        if (have.getMaxMsgs() != wanted.getMaxMsgs()
                || !have.getMaxAge().equals(wanted.getMaxAge())
                || have.getMaxBytes() != wanted.getMaxBytes()
                || !have.getDuplicateWindow().equals(wanted.getDuplicateWindow())
                || have.getReplicas() != wanted.getReplicas()
                || have.getAllowDirect() != wanted.getAllowDirect()) {
            // a stream made before NATS_REPLICAS changed (say, on one server, then the cluster) is brought to the
            // replicas wanted: never left at one copy unseen
            if (have.getReplicas() != wanted.getReplicas()) {
                log.warn(
                        "stream {} has {} replica(s); changing it to NATS_REPLICAS={}",
                        wanted.getName(),
                        have.getReplicas(),
                        wanted.getReplicas());
            } else {
                log.info("updating stream {} limits", wanted.getName());
            }
            return jsm.updateStream(StreamConfiguration.builder(have)
                    .maxMessages(wanted.getMaxMsgs())
                    .maxAge(wanted.getMaxAge())
                    .maxBytes(wanted.getMaxBytes())
                    .duplicateWindow(wanted.getDuplicateWindow())
                    .replicas(wanted.getReplicas())
                    .allowDirect(wanted.getAllowDirect())
                    .build());
        }
        return existing.get();
    }

    /**
     * Get-or-create of a work queue: a work-queue stream on one subject and the one durable pull consumer all its
     * readers share, with the most messages that may be out unacknowledged at once (a queue whose messages wait out
     * delayed retries unacknowledged must not let those retries block new messages). {@code maxAge} zero keeps
     * messages until they are taken.
     */
    void ensureWorkQueue(
            String stream, String subject, String consumer, Duration maxAge, Duration ackWait, long maxAckPending)
            throws IOException, JetStreamApiException {
        Duration window = Duration.ofMinutes(2);
        if (!maxAge.isZero() && maxAge.compareTo(window) < 0) {
            window = maxAge; // JetStream refuses a de-duplication window longer than the max age
        }
        ensureStream(StreamConfiguration.builder()
                .name(stream)
                .subjects(subject)
                .retentionPolicy(RetentionPolicy.WorkQueue)
                .storageType(StorageType.File)
                .maxAge(maxAge)
                .duplicateWindow(window)
                .build());
        // Deliveries are not capped by the server (maxDeliver -1): the readers count them themselves, so a
        // message the server gave up on can never stay parked in the stream.
        jsm.addOrUpdateConsumer(
                stream,
                ConsumerConfiguration.builder()
                        .durable(consumer)
                        .filterSubject(subject)
                        .ackPolicy(AckPolicy.Explicit)
                        .ackWait(ackWait)
                        .maxDeliver(-1)
                        .maxAckPending(maxAckPending)
                        .build());
    }

    /** Get-or-create of a key-value bucket. */
    KeyValue ensureKeyValue(KeyValueConfiguration config) throws IOException, JetStreamApiException {
        ensureStream(config.getBackingConfig());
        return connection.keyValue(config.getBucketName());
    }

    /** Deletes a stream; true when it existed. */
    boolean deleteStream(String stream) throws IOException, JetStreamApiException {
        try {
            return jsm.deleteStream(stream);
        } catch (JetStreamApiException e) {
            if (ApiErrors.is(e, ApiErrors.STREAM_NOT_FOUND)) {
                return false;
            }
            throw e;
        }
    }

    /** Removes a key of a key-value bucket without leaving a delete marker (a marker still takes a slot). */
    void purgeKey(String bucket, String key) throws IOException, JetStreamApiException {
        jsm.purgeStream(
                NatsKeyValueUtil.toStreamName(bucket),
                PurgeOptions.subject(NatsKeyValueUtil.toKeyPrefix(bucket) + key));
    }
}
