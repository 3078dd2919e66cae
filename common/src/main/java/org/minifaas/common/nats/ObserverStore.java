package org.minifaas.common.nats;

import io.nats.client.JetStreamApiException;
import io.nats.client.KeyValue;
import io.nats.client.api.KeyValueConfiguration;
import io.nats.client.api.KeyValueEntry;
import io.nats.client.api.StorageType;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The observer's bucket: the current system status and worker count, the queue counters, and the
 * event log (one key per line, ordered by time), all with a one-day retention. The state keys are
 * rewritten on every check, so they outlive the retention as long as the observer runs.
 */
public final class ObserverStore {
    public static final Duration RETENTION = Duration.ofDays(1);
    public static final String STATUS = "system_status";
    public static final String WORKERS = "number_of_workers";
    public static final String IN_MSGS = "in_msgs";
    public static final String OUT_MSGS = "out_msgs";
    public static final String BACKLOG = "backlog";
    private static final String LOG_PREFIX = "log.";

    private final KeyValue kv;
    private final AtomicInteger sequence = new AtomicInteger();

    private ObserverStore(KeyValue kv) {
        this.kv = kv;
    }

    static ObserverStore open(NatsLayer layer) throws IOException, JetStreamApiException {
        KeyValueConfiguration config = KeyValueConfiguration.builder()
                .name(BucketNames.OBSERVER_BUCKET)
                .maxHistoryPerKey(1)
                .ttl(RETENTION)
                .storageType(StorageType.File)
                .build();
        return new ObserverStore(layer.streams().ensureKeyValue(config));
    }

    public void put(String key, String value) throws IOException, JetStreamApiException {
        kv.put(key, value.getBytes(StandardCharsets.UTF_8));
    }

    public Optional<String> get(String key) throws IOException, JetStreamApiException {
        KeyValueEntry entry = kv.get(key);
        if (entry == null || entry.getValue() == null) {
            return Optional.empty();
        }
        return Optional.of(new String(entry.getValue(), StandardCharsets.UTF_8));
    }

    /** Appends one log line; keys sort by time, then by a per-process sequence. */
    public void log(long epochMillis, String line) throws IOException, JetStreamApiException {
        String key = LOG_PREFIX + String.format("%013d.%06d", epochMillis, sequence.incrementAndGet() % 1_000_000);
        kv.put(key, line.getBytes(StandardCharsets.UTF_8));
    }

    /** The log lines of the last day, oldest first. */
    public List<String> logs() throws IOException, JetStreamApiException, InterruptedException {
        List<String> keys = new ArrayList<>(kv.keys(LOG_PREFIX + ">"));
        keys.sort(null);
        List<String> lines = new ArrayList<>(keys.size());
        for (String key : keys) {
            get(key).ifPresent(lines::add);
        }
        return lines;
    }
}
