package org.minifaas.common.nats;

import io.nats.client.JetStreamApiException;
import io.nats.client.KeyValue;
import io.nats.client.api.KeyValueConfiguration;
import io.nats.client.api.KeyValueEntry;
import io.nats.client.api.StorageType;
import io.nats.client.support.NatsKeyValueUtil;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Live workers: each worker process rewrites its own key every {@link #HEARTBEAT}; keys expire
 * after {@link #TTL}, so the number of keys is the number of workers alive right now.
 */
public final class WorkerRegistry {
    public static final Duration HEARTBEAT = Duration.ofSeconds(5);
    public static final Duration TTL = Duration.ofSeconds(15);
    /** What a worker running functions without a sandbox (SANDBOX=off) puts in its heartbeat's "sandbox". */
    public static final String SANDBOX_OFF = "off";

    private static final KeyValueConfiguration CONFIG = KeyValueConfiguration.builder()
            .name(BucketNames.WORKERS_BUCKET)
            .maxHistoryPerKey(1)
            .ttl(TTL)
            .storageType(StorageType.Memory)
            .build();

    private final NatsLayer layer;
    private final KeyValue kv;

    private WorkerRegistry(NatsLayer layer, KeyValue kv) {
        this.layer = layer;
        this.kv = kv;
    }

    static WorkerRegistry open(NatsLayer layer) throws IOException, JetStreamApiException {
        return new WorkerRegistry(layer, layer.streams().ensureKeyValue(CONFIG));
    }

    /**
     * Registers or refreshes a worker; {@code workerId} must be a valid key ([A-Za-z0-9_-]). The bucket is kept in
     * memory, so a NATS server that restarts has lost it: a beat that fails makes it again and beats once more.
     */
    public void beat(String workerId, String info) throws IOException, JetStreamApiException {
        byte[] value = info.getBytes(StandardCharsets.UTF_8);
        try {
            kv.put(workerId, value);
        } catch (IOException | JetStreamApiException e) {
            layer.streams().ensureKeyValue(CONFIG);
            kv.put(workerId, value);
        }
    }

    /** Whether {@code workerId} beat within the TTL (false also when the registry cannot be read). */
    public boolean isLive(String workerId) {
        try {
            KeyValueEntry entry = kv.get(workerId);
            return entry != null && entry.getValue() != null;
        } catch (IOException | JetStreamApiException | IllegalArgumentException e) {
            return false;
        }
    }

    /** Removes a stopping worker at once (no delete marker left behind to be counted). */
    public void leave(String workerId) throws IOException, JetStreamApiException {
        layer.streams().purgeKey(BucketNames.WORKERS_BUCKET, workerId);
    }

    /** Workers that beat within the TTL: one message per live key, counted from the stream state. */
    public long live() throws IOException, JetStreamApiException {
        try {
            return layer.jsm()
                    .getStreamInfo(NatsKeyValueUtil.toStreamName(BucketNames.WORKERS_BUCKET))
                    .getStreamState()
                    .getMsgCount();
        } catch (JetStreamApiException e) {
            if (ApiErrors.is(e, ApiErrors.STREAM_NOT_FOUND)) {
                // lost with a NATS restart (kept in memory): made again, and no worker has beaten into it yet
                layer.streams().ensureKeyValue(CONFIG);
                return 0;
            }
            throw e;
        }
    }

    /** The live workers that run functions without a sandbox (their ids). */
    public List<String> unsandboxed() throws IOException, JetStreamApiException, InterruptedException {
        List<String> keys;
        try {
            keys = kv.keys();
        } catch (JetStreamApiException e) {
            if (ApiErrors.is(e, ApiErrors.STREAM_NOT_FOUND)) {
                layer.streams().ensureKeyValue(CONFIG); // lost with a NATS restart, as in live()
                return List.of();
            }
            throw e;
        }
        List<String> ids = new ArrayList<>();
        for (String key : keys) {
            KeyValueEntry entry = kv.get(key);
            if (entry != null
                    && entry.getValue() != null
                    && new String(entry.getValue(), StandardCharsets.UTF_8)
                            .contains("\"sandbox\":\"" + SANDBOX_OFF + "\"")) {
                ids.add(key);
            }
        }
        return ids;
    }

    /** A key-safe worker id for this process. */
    public static String processId(String hostname) {
        String host = hostname == null ? "worker" : hostname.replaceAll("[^A-Za-z0-9_-]", "_");
        return host + "-" + ProcessHandle.current().pid();
    }
}
