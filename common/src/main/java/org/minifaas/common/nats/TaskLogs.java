package org.minifaas.common.nats;

import io.nats.client.IterableConsumer;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamStatusCheckedException;
import io.nats.client.Message;
import io.nats.client.OrderedConsumerContext;
import io.nats.client.PublishOptions;
import io.nats.client.api.DeliverPolicy;
import io.nats.client.api.DiscardPolicy;
import io.nats.client.api.OrderedConsumerConfiguration;
import io.nats.client.api.PublishAck;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import io.nats.client.impl.Headers;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.minifaas.common.Json;
import org.minifaas.common.model.TaskStatus;

/**
 * The live log of every task: one stream, one subject per task ({@code logs.<taskId>}), kept as long as the task.
 * The worker publishes the build's and the function's output as it is printed ({@code stdout}/{@code stderr}
 * events, whole lines), a {@code status} event on each change of phase, and one {@code end} event once the task is
 * final; the frontend replays and follows a subject from any sequence (the SSE event id), so a client resumes
 * without loss or duplicates.
 */
public final class TaskLogs {
    public static final String STREAM = "LOGS";
    public static final String SUBJECT_PREFIX = "logs.";
    /** The header naming an event's kind. */
    public static final String KIND_HEADER = "MiniFaaS-Event";
    /** All tasks' logs together are capped; the oldest go first. */
    static final long MAX_BYTES = 1024L * 1024 * 1024;
    /** One event's largest payload (the worker splits longer output). */
    public static final int MAX_EVENT_BYTES = 64 * 1024;

    /** What an event carries. */
    public enum Kind {
        STDOUT,
        STDERR,
        STATUS,
        END;

        public String wireName() {
            return name().toLowerCase(Locale.ROOT);
        }

        static Kind parse(String wire) {
            return wire == null ? STDOUT : Kind.valueOf(wire.toUpperCase(Locale.ROOT));
        }
    }

    /** One event of a task's log: its stream sequence (the SSE id), its kind and its text. */
    public record Event(long sequence, Kind kind, String data) {}

    private final NatsLayer layer;
    private volatile boolean ensured;

    TaskLogs(NatsLayer layer) {
        this.layer = layer;
    }

    public void ensure() throws IOException, JetStreamApiException {
        if (!ensured) {
            Duration retention = layer.settings().retention();
            Duration window = retention.compareTo(Duration.ofMinutes(2)) < 0 ? retention : Duration.ofMinutes(2);
            layer.streams()
                    .ensureStream(StreamConfiguration.builder()
                            .name(STREAM)
                            .subjects(SUBJECT_PREFIX + "*")
                            .storageType(StorageType.File)
                            .maxAge(retention)
                            .maxBytes(MAX_BYTES)
                            .discardPolicy(DiscardPolicy.Old)
                            .duplicateWindow(window)
                            .build());
            ensured = true;
        }
    }

    public static String subject(UUID taskId) {
        return SUBJECT_PREFIX + taskId;
    }

    /**
     * Publishes output without waiting for the server's acknowledgement (the function is not slowed down by it);
     * events of one connection are stored in the order they were published.
     */
    public CompletableFuture<PublishAck> output(UUID taskId, Kind kind, String text)
            throws IOException, JetStreamApiException {
        ensure();
        return layer.js().publishAsync(message(taskId, kind, text), options(null));
    }

    /** A change of phase while the task is not final: {@code {"status": ..., "code": ..., "phase": ...}}. */
    public void status(UUID taskId, TaskStatus status, String phase) throws IOException, JetStreamApiException {
        ensure();
        layer.js().publish(message(taskId, Kind.STATUS, statusJson(status, phase)), options(null));
    }

    /**
     * The final status, then the end of the log. Each carries a de-duplication id, so that a worker that repeats
     * the end of a task (its acknowledgement was lost) does not end the log twice.
     */
    public void end(UUID taskId, TaskStatus status) throws IOException, JetStreamApiException {
        ensure();
        // both in one round trip: the stream stores one connection's messages in order, so the end's answer comes
        // after the status's
        CompletableFuture<PublishAck> statusStored = layer.js()
                .publishAsync(
                        message(taskId, Kind.STATUS, statusJson(status, null)),
                        options("status-" + status + "-" + taskId));
        layer.js().publish(message(taskId, Kind.END, statusJson(status, null)), options("end-" + taskId));
        try {
            statusStored.get(5, TimeUnit.SECONDS); // answered before the end, normally
        } catch (ExecutionException | TimeoutException e) {
            throw new IOException("the final status event of task " + taskId + " was not stored", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while ending the log of task " + taskId, e);
        }
    }

    /** A reader of one task's log from the event after {@code afterSequence} (0: from the start). */
    public Reader reader(UUID taskId, long afterSequence) throws IOException, JetStreamApiException {
        ensure();
        OrderedConsumerConfiguration config = new OrderedConsumerConfiguration().filterSubject(subject(taskId));
        if (afterSequence > 0) {
            config.deliverPolicy(DeliverPolicy.ByStartSequence).startSequence(afterSequence + 1);
        } else {
            config.deliverPolicy(DeliverPolicy.All);
        }
        OrderedConsumerContext consumer = layer.js().getStreamContext(STREAM).createOrderedConsumer(config);
        return new Reader(consumer.iterate());
    }

    /**
     * Reads events in order (prefetched in batches by one ordered consumer); {@link #next} returns null when none
     * arrived within the wait. Close it when done.
     */
    public static final class Reader implements AutoCloseable {
        private final IterableConsumer consumer;

        private Reader(IterableConsumer consumer) {
            this.consumer = consumer;
        }

        public Event next(Duration wait) throws IOException, JetStreamApiException, InterruptedException {
            Message m;
            try {
                m = consumer.nextMessage(wait);
            } catch (JetStreamStatusCheckedException e) {
                throw new IOException("reading the log failed: " + e.getMessage(), e);
            }
            if (m == null) {
                return null;
            }
            String kind = m.getHeaders() == null ? null : m.getHeaders().getFirst(KIND_HEADER);
            return new Event(
                    m.metaData().streamSequence(), Kind.parse(kind), new String(m.getData(), StandardCharsets.UTF_8));
        }

        @Override
        public void close() {
            try {
                consumer.close();
            } catch (Exception e) {
                // the ordered consumer is ephemeral: the server drops it by itself
            }
        }
    }

    private static Message message(UUID taskId, Kind kind, String data) {
        Headers headers = new Headers().put(KIND_HEADER, kind.wireName());
        return io.nats.client.impl.NatsMessage.builder()
                .subject(subject(taskId))
                .headers(headers)
                .data(data.getBytes(StandardCharsets.UTF_8))
                .build();
    }

    private static PublishOptions options(String messageId) {
        PublishOptions.Builder b = PublishOptions.builder().expectedStream(STREAM);
        if (messageId != null) {
            b.messageId(messageId);
        }
        return b.build();
    }

    private static String statusJson(TaskStatus status, String phase) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("status", status.name());
        body.put("code", status.code());
        if (phase != null) {
            body.put("phase", phase);
        }
        return new String(Json.toBytes(body), StandardCharsets.UTF_8);
    }
}
