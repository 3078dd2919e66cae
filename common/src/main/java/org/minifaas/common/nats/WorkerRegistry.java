package org.minifaas.common.nats;

import io.nats.client.JetStreamApiException;
import io.nats.client.KeyValue;
import io.nats.client.PurgeOptions;
import io.nats.client.api.KeyValueConfiguration;
import io.nats.client.api.StorageType;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * Live workers: each worker process rewrites its own key every {@link #HEARTBEAT}; keys expire
 * after {@link #TTL}, so the number of keys is the number of workers alive right now.
 */
public final class WorkerRegistry {
    public static final Duration HEARTBEAT = Duration.ofSeconds(5);
    public static final Duration TTL = Duration.ofSeconds(15);

    private final NatsLayer layer;
    private final KeyValue kv;

    private WorkerRegistry(NatsLayer layer, KeyValue kv) {
        this.layer = layer;
        this.kv = kv;
    }

    static WorkerRegistry open(NatsLayer layer) throws IOException, JetStreamApiException {
        KeyValueConfiguration config = KeyValueConfiguration.builder()
                .name(BucketNames.WORKERS_BUCKET)
                .maxHistoryPerKey(1)
                .ttl(TTL)
                .storageType(StorageType.Memory)
                .build();
        return new WorkerRegistry(layer, layer.ensureKeyValue(config));
    }

    /** Registers or refreshes a worker; {@code workerId} must be a valid key ([A-Za-z0-9_-]). */
    public void beat(String workerId, String info) throws IOException, JetStreamApiException {
        kv.put(workerId, info.getBytes(StandardCharsets.UTF_8));
    }

    /** Removes a stopping worker at once (no delete marker left behind to be counted). */
    public void leave(String workerId) throws IOException, JetStreamApiException {
        layer.jsm().purgeStream(BucketNames.kvStream(BucketNames.WORKERS_BUCKET),
                PurgeOptions.subject("$KV." + BucketNames.WORKERS_BUCKET + "." + workerId));
    }

    /** Workers that beat within the TTL: one message per live key, counted from the stream state. */
    public long live() throws IOException, JetStreamApiException {
        return layer.jsm().getStreamInfo(BucketNames.kvStream(BucketNames.WORKERS_BUCKET))
                .getStreamState().getMsgCount();
    }

    /** A key-safe worker id for this process. */
    public static String processId(String hostname) {
        String host = hostname == null ? "worker" : hostname.replaceAll("[^A-Za-z0-9_-]", "_");
        return host + "-" + ProcessHandle.current().pid();
    }
}
