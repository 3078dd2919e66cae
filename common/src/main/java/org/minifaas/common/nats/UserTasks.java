package org.minifaas.common.nats;

import io.nats.client.JetStreamApiException;
import io.nats.client.KeyValue;
import io.nats.client.api.KeyValueConfiguration;
import io.nats.client.api.KeyValueEntry;
import io.nats.client.api.KeyValueOperation;
import io.nats.client.PurgeOptions;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import io.nats.client.api.StreamInfo;
import io.nats.client.api.StreamInfoOptions;
import io.nats.client.api.Subject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
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
                .build();
        layer.ensureStream(backing);
        return new UserTasks(layer, bucket, layer.connection().keyValue(bucket), backing);
    }

    public String bucket() {
        return bucket;
    }

    /** Records a new task as PENDING, or refuses it when the user is at the quota. */
    public void createPending(UUID taskId) throws IOException, JetStreamApiException, QuotaExceededException {
        try {
            writing(() -> kv.create(taskId.toString(), encode(TaskStatus.PENDING)));
        } catch (JetStreamApiException e) {
            if (ApiErrors.isLimit(e)) {
                throw new QuotaExceededException(layer.settings().maxActiveTasks());
            }
            throw e;
        }
    }

    public void setStatus(UUID taskId, TaskStatus status) throws IOException, JetStreamApiException {
        writing(() -> kv.put(taskId.toString(), encode(status)));
    }

    /** The status of a task of this user, or empty when unknown or expired. */
    public Optional<TaskStatus> status(UUID taskId) throws IOException, JetStreamApiException {
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
        return Optional.of(TaskStatus.valueOf(new String(entry.getValue(), StandardCharsets.UTF_8)));
    }

    /**
     * Ids of the user's active tasks (in no particular order). Read from the stream's subject list in one
     * request (listing keys through a consumer costs several); the bucket holds only live entries, as
     * tasks are never deleted with a marker.
     */
    public List<String> taskIds() throws IOException, JetStreamApiException {
        String prefix = "$KV." + bucket + ".";
        StreamInfo info;
        try {
            info = layer.jsm().getStreamInfo(BucketNames.kvStream(bucket), StreamInfoOptions.filterSubjects(prefix + ">"));
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
        return subjects.stream().map(sub -> sub.getName().substring(prefix.length())).toList();
    }

    /**
     * Removes a task's entry without leaving a delete marker (a marker would keep using a quota
     * slot): used when a task could not be enqueued after its status was stored.
     */
    public void forget(UUID taskId) throws IOException, JetStreamApiException {
        layer.jsm().purgeStream(BucketNames.kvStream(bucket),
                PurgeOptions.subject("$KV." + bucket + "." + taskId));
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
            layer.ensureStream(backing);
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
            return layer.streamInfo(BucketNames.kvStream(bucket)).isEmpty();
        }
        return false;
    }

    private static byte[] encode(TaskStatus status) {
        return status.name().getBytes(StandardCharsets.UTF_8);
    }
}
