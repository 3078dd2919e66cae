package org.minifaas.common.nats;

import io.nats.client.JetStreamApiException;
import io.nats.client.KeyValue;
import io.nats.client.Subscription;
import io.nats.client.api.KeyValueConfiguration;
import io.nats.client.api.KeyValueEntry;
import io.nats.client.api.KeyValueOperation;
import io.nats.client.api.KeyValueWatchOption;
import io.nats.client.api.KeyValueWatcher;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import io.nats.client.api.StreamInfo;
import io.nats.client.api.StreamInfoOptions;
import io.nats.client.api.Subject;
import io.nats.client.impl.NatsKeyValueWatchSubscription;
import io.nats.client.support.NatsKeyValueUtil;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.minifaas.common.Json;
import org.minifaas.common.model.TaskRecord;
import org.minifaas.common.model.TaskStatus;

/**
 * One user's task statuses: a key-value bucket keyed by task id, whose entries expire after the
 * retention. The bucket's backing stream is capped at the quota with discard policy New, so the
 * server itself refuses the key beyond the limit: exact under any concurrency, no counters.
 * Status updates of an existing key still succeed (one message per key is kept).
 */
public final class UserTasks {
    private final NatsLayer layer;
    private final String bucket;
    private final KeyValue kv;
    private final StreamConfiguration backing;

    private UserTasks(NatsLayer layer, String bucket, KeyValue kv, StreamConfiguration backing) {
        this.layer = layer;
        this.bucket = bucket;
        this.kv = kv;
        this.backing = backing;
    }

    static UserTasks open(NatsLayer layer, String bucket) throws IOException, JetStreamApiException {
        KeyValueConfiguration kvc = KeyValueConfiguration.builder()
                .name(bucket)
                .maxHistoryPerKey(1)
                .ttl(layer.settings().retention())
                .storageType(StorageType.File)
                .build();
        StreamConfiguration backing = StreamConfiguration.builder(kvc.getBackingConfig())
                .maxMessages(layer.settings().maxActiveTasks())
                // reads from the stream's leader: a direct get may be answered by a replica that has not stored the
                // latest write yet, and a task just created could read as unknown (404) on a cluster
                .allowDirect(false)
                .build();
        layer.streams().ensureStream(backing);
        return new UserTasks(layer, bucket, layer.connection().keyValue(bucket), backing);
    }

    /**
     * Records a new task as PENDING, or refuses it when the user is at the quota. Repeatable: a task already recorded
     * (an earlier attempt that was stored although its answer was lost) is left as it is.
     */
    public void createPending(TaskRecord record) throws IOException, JetStreamApiException, QuotaExceededException {
        try {
            writing(() -> kv.create(record.id().toString(), Json.toBytes(record)));
        } catch (JetStreamApiException e) {
            if (ApiErrors.is(e, ApiErrors.WRONG_LAST_SEQUENCE)
                    && record(record.id()).isPresent()) {
                return;
            }
            if (ApiErrors.isLimit(e)) {
                throw new QuotaExceededException(layer.settings().maxActiveTasks());
            }
            throw e;
        }
    }

    /** The name of the bucket's stream. */
    public String streamName() {
        return NatsKeyValueUtil.toStreamName(bucket);
    }

    /** A bare PENDING record (tests, tools). */
    public void createPending(UUID taskId) throws IOException, JetStreamApiException, QuotaExceededException {
        createPending(TaskRecord.legacy(taskId, TaskStatus.PENDING).withStatus(TaskStatus.PENDING));
    }

    /** Sets the status, keeping the rest of the record (compare-and-set). */
    public void setStatus(UUID taskId, TaskStatus status) throws IOException, JetStreamApiException {
        update(taskId, r -> r.withStatus(status));
    }

    /** The status of a task of this user, or empty when unknown or expired. */
    public Optional<TaskStatus> status(UUID taskId) throws IOException, JetStreamApiException {
        return record(taskId).map(TaskRecord::status);
    }

    /** The record of a task of this user, or empty when unknown or expired. */
    public Optional<TaskRecord> record(UUID taskId) throws IOException, JetStreamApiException {
        return versioned(taskId).map(Versioned::record);
    }

    /** A record with the revision it was read at (for compare-and-set). */
    public record Versioned(TaskRecord record, long revision) {}

    public Optional<Versioned> versioned(UUID taskId) throws IOException, JetStreamApiException {
        KeyValueEntry entry;
        try {
            entry = kv.get(taskId.toString());
        } catch (IOException | JetStreamApiException e) {
            if (isMissingStream(e)) {
                return Optional.empty();
            }
            throw e;
        }
        if (entry == null || entry.getOperation() != KeyValueOperation.PUT || entry.getValue() == null) {
            return Optional.empty();
        }
        return Optional.of(new Versioned(decode(taskId, entry.getValue()), entry.getRevision()));
    }

    /**
     * Changes a record atomically: reads it, applies {@code change}, and writes the result only if nobody wrote the
     * record meanwhile (else reads again and re-applies). {@code change} returning its argument itself means "no
     * write". Returns the record as stored afterwards, or empty when the task is unknown.
     */
    public Optional<TaskRecord> update(UUID taskId, UnaryOperator<TaskRecord> change)
            throws IOException, JetStreamApiException {
        return update(taskId, null, change);
    }

    /**
     * As {@link #update(UUID, UnaryOperator)}, starting from {@code known}, the record as read a moment ago (null:
     * read it now): one read fewer when nobody wrote the record since; else it is read again, as there.
     */
    public Optional<TaskRecord> update(UUID taskId, Versioned known, UnaryOperator<TaskRecord> change)
            throws IOException, JetStreamApiException {
        for (int attempt = 0; ; attempt++) {
            Optional<Versioned> current = attempt == 0 && known != null ? Optional.of(known) : versioned(taskId);
            if (current.isEmpty()) {
                return Optional.empty();
            }
            TaskRecord before = current.get().record();
            TaskRecord after = change.apply(before);
            if (after == before) {
                return Optional.of(before);
            }
            try {
                kv.update(taskId.toString(), Json.toBytes(after), current.get().revision());
                return Optional.of(after);
            } catch (JetStreamApiException e) {
                if (!ApiErrors.is(e, ApiErrors.WRONG_LAST_SEQUENCE) || attempt >= 50) {
                    throw e;
                }
                // written meanwhile (a cancel racing a start): read again and decide again
            }
        }
    }

    /**
     * Writes the record again as it is, so that its age starts anew: a record lives TASK_RETENTION_SECONDS from its
     * last write, and a task may run longer than that. False when the task is unknown; a write by someone else
     * meanwhile (which renewed it too) is not repeated.
     */
    public boolean touch(UUID taskId) throws IOException, JetStreamApiException {
        Optional<Versioned> current = versioned(taskId);
        if (current.isEmpty()) {
            return false;
        }
        try {
            kv.update(
                    taskId.toString(),
                    Json.toBytes(current.get().record()),
                    current.get().revision());
        } catch (JetStreamApiException e) {
            if (!ApiErrors.is(e, ApiErrors.WRONG_LAST_SEQUENCE)) {
                throw e;
            }
        }
        return true;
    }

    /**
     * Tells of writes to one task's record as they are published: a plain subscription to the key's subject (the
     * bucket's stream stores what is published there), no JetStream consumer and no extra round trip. Only a hint:
     * a write is heard when it is published, which in a cluster can be before the stream has stored it, and a
     * compare-and-set the stream refuses is heard too, so read the record after it (again shortly if it has not
     * changed). A server handles one connection's messages in order, so a read made after this sees every write
     * the subscription misses; in a cluster the interest reaches the stream's leader a moment later, and a
     * reconnect can lose one, so a caller should also read again now and then (see {@code TaskService.await}).
     * Close it when done.
     */
    public RecordChanges changes(UUID taskId) {
        return new RecordChanges(layer.connection().subscribe("$KV." + bucket + "." + taskId));
    }

    /** Writes to one record, from {@link #changes}. */
    public static final class RecordChanges implements AutoCloseable {
        private final Subscription sub;

        private RecordChanges(Subscription sub) {
            this.sub = sub;
        }

        /**
         * Waits up to {@code timeout} (more than zero) for a write; true when one came (read the record then). A
         * closed connection (the service stopping) is no write: the caller's own read then says what is wrong.
         */
        public boolean next(Duration timeout) throws InterruptedException {
            try {
                return sub.nextMessage(timeout) != null;
            } catch (IllegalStateException closed) {
                Thread.sleep(timeout.toMillis());
                return false;
            }
        }

        @Override
        public void close() {
            try {
                sub.unsubscribe();
            } catch (IllegalStateException closed) {
                // the connection is closed: the subscription with it
            }
        }
    }

    /**
     * Every record of this user, read through one ordered consumer over the bucket (one request, not one per
     * task); in no particular order.
     */
    public List<TaskRecord> records() throws IOException, JetStreamApiException, InterruptedException {
        List<TaskRecord> out = new ArrayList<>();
        CountDownLatch done = new CountDownLatch(1);
        KeyValueWatcher watcher = new KeyValueWatcher() {
            @Override
            public void watch(KeyValueEntry entry) {
                if (entry.getOperation() == KeyValueOperation.PUT && entry.getValue() != null) {
                    try {
                        synchronized (out) {
                            out.add(decode(UUID.fromString(entry.getKey()), entry.getValue()));
                        }
                    } catch (RuntimeException e) {
                        // a key that is not a task id: not ours
                    }
                }
            }

            @Override
            public void endOfData() {
                done.countDown();
            }
        };
        NatsKeyValueWatchSubscription sub = null;
        try {
            sub = kv.watchAll(watcher, KeyValueWatchOption.IGNORE_DELETE);
            if (!done.await(10, TimeUnit.SECONDS)) {
                throw new IOException("listing the tasks timed out");
            }
        } catch (IOException | JetStreamApiException e) {
            if (isMissingStream(e)) {
                return List.of();
            }
            if (isFenced()) {
                // the retention sweep holds the bucket for a few seconds, and no consumer can be made on it then
                return readOneByOne();
            }
            throw e;
        } finally {
            if (sub != null) {
                sub.unsubscribe();
            }
        }
        synchronized (out) {
            return List.copyOf(out);
        }
    }

    private boolean isFenced() throws IOException, JetStreamApiException {
        Optional<StreamInfo> info = layer.streams().streamInfo(NatsKeyValueUtil.toStreamName(bucket));
        return info.isPresent() && StreamJanitor.isFenced(info.get());
    }

    /** Every record, each read by its id (at most the quota's worth): what works while the bucket is fenced. */
    private List<TaskRecord> readOneByOne() throws IOException, JetStreamApiException {
        List<TaskRecord> out = new ArrayList<>();
        for (String id : taskIds()) {
            try {
                record(UUID.fromString(id)).ifPresent(out::add);
            } catch (IllegalArgumentException e) {
                // a key that is not a task id: not ours
            }
        }
        return List.copyOf(out);
    }

    /**
     * Ids of the user's active tasks (in no particular order). Read from the stream's subject list in one
     * request (listing keys through a consumer costs several); the bucket holds only live entries, as
     * tasks are never deleted with a marker.
     */
    public List<String> taskIds() throws IOException, JetStreamApiException {
        String prefix = NatsKeyValueUtil.toKeyPrefix(bucket);
        StreamInfo info;
        try {
            info = layer.jsm()
                    .getStreamInfo(
                            NatsKeyValueUtil.toStreamName(bucket), StreamInfoOptions.filterSubjects(prefix + ">"));
        } catch (IOException | JetStreamApiException e) {
            if (isMissingStream(e)) {
                return List.of();
            }
            throw e;
        }
        List<Subject> subjects = info.getStreamState().getSubjects();
        if (subjects == null) {
            return List.of();
        }
        return subjects.stream()
                .map(sub -> sub.getName().substring(prefix.length()))
                .toList();
    }

    /**
     * Removes a task's entry without leaving a delete marker (a marker would keep using a quota
     * slot): used when a task could not be enqueued after its status was stored.
     */
    public void forget(UUID taskId) throws IOException, JetStreamApiException {
        layer.streams().purgeKey(bucket, taskId.toString());
    }

    private interface Write {
        Object run() throws IOException, JetStreamApiException;
    }

    /**
     * Runs a write; when the bucket's stream is gone (the retention sweep deletes empty buckets),
     * recreates it and runs the write again.
     */
    private void writing(Write write) throws IOException, JetStreamApiException {
        try {
            write.run();
        } catch (IOException | JetStreamApiException e) {
            if (!isMissingStream(e)) {
                throw e;
            }
            layer.streams().ensureStream(backing);
            write.run();
        }
    }

    /**
     * Whether a failure means this bucket's stream is gone (the retention sweep deletes emptied buckets).
     * A timeout or a missing responder is ambiguous (a slow or absent server looks the same), so then the
     * stream itself is asked; any other failure is not about the bucket.
     */
    private boolean isMissingStream(Exception e) throws IOException, JetStreamApiException {
        if (e instanceof JetStreamApiException api) {
            if (ApiErrors.is(api, ApiErrors.STREAM_NOT_FOUND)) {
                return true;
            }
        }
        String message = String.valueOf(e.getMessage());
        if (message.contains("No Responders") || message.contains("Timeout or no response")) {
            return layer.streams()
                    .streamInfo(NatsKeyValueUtil.toStreamName(bucket))
                    .isEmpty();
        }
        return false;
    }

    /** A stored value: a JSON record, or a plain status name as older versions stored. */
    static TaskRecord decode(UUID taskId, byte[] value) {
        if (value.length > 0 && value[0] == '{') {
            return Json.fromBytes(value, TaskRecord.class);
        }
        return TaskRecord.legacy(taskId, TaskStatus.valueOf(new String(value, StandardCharsets.UTF_8).trim()));
    }
}
