package org.minifaas.frontend;

import io.nats.client.JetStreamApiException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.minifaas.common.Json;
import org.minifaas.common.model.TaskRecord;
import org.minifaas.common.model.TaskStatus;
import org.minifaas.common.nats.NatsLayer;
import org.minifaas.common.nats.TaskLogs;
import org.minifaas.common.nats.UserTasks;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Following a task's live log: replays the events stored after a sequence, then hands over new ones as the worker
 * publishes them, until the {@code end} event. Knows nothing of HTTP: the caller gives a {@link Sink}.
 */
public final class LogService {
    private static final Logger log = LoggerFactory.getLogger(LogService.class);
    /** A silent stream gets a keep-alive this often (proxies and clients drop idle connections). */
    static final Duration KEEPALIVE = Duration.ofSeconds(15);
    /**
     * After this long without events, the record is read: a final task whose log has no end (it ended before logs
     * existed, or its end was lost) gets one made up from the record.
     */
    static final Duration IDLE_CHECK = Duration.ofSeconds(3);
    /** The longest a reader blocks, so the checks above run on time. */
    private static final Duration READ_WAIT = Duration.ofMillis(500);

    private final NatsLayer nats;
    private final Limiter streams;

    /** With the default cap per user ({@link FrontendConfig#DEFAULT_MAX_LOG_STREAMS_PER_USER}). */
    public LogService(NatsLayer nats, int maxStreams) {
        this(nats, maxStreams, FrontendConfig.DEFAULT_MAX_LOG_STREAMS_PER_USER);
    }

    /**
     * @param maxStreams        streams open at once, of all users; more are refused ({@link DomainException.Busy})
     * @param maxStreamsPerUser streams one user may hold open; more are refused ({@link DomainException.TooManyForUser})
     */
    public LogService(NatsLayer nats, int maxStreams, int maxStreamsPerUser) {
        this.nats = nats;
        this.streams = new Limiter(maxStreams, maxStreamsPerUser, "log streams");
    }

    /** The streams {@code userId} holds open now (tests). */
    int streamsOf(String userId) {
        return streams.heldBy(userId);
    }

    /** Where the events go; a write that fails (the client left) ends the stream. */
    public interface Sink {
        /** One event: its sequence ({@code null} for events made up here, which cannot be resumed from). */
        void event(Long sequence, String kind, String data) throws IOException;

        void keepalive() throws IOException;
    }

    /**
     * Opens a task's log for following: checks that the task is the user's ({@link DomainException.TaskNotFound})
     * and takes one of the stream slots ({@link DomainException.TooManyForUser} beyond the user's share,
     * {@link DomainException.Busy} when all are taken), before anything is sent.
     *
     * @param afterSequence the last event the client has (its Last-Event-ID), or null for a new client
     */
    public Follow open(String userId, UUID taskId, Long afterSequence) throws IOException, JetStreamApiException {
        UserTasks tasks = nats.existingUserTasks(userId).orElseThrow(() -> new DomainException.TaskNotFound(taskId));
        TaskRecord record = tasks.record(taskId).orElseThrow(() -> new DomainException.TaskNotFound(taskId));
        Limiter.Slot slot = streams.acquire(userId);
        try {
            TaskLogs.Reader reader = nats.logs().reader(taskId, afterSequence == null ? 0 : afterSequence);
            return new Follow(
                    tasks, record, afterSequence == null ? 0 : afterSequence, afterSequence == null, reader, slot);
        } catch (IOException | JetStreamApiException | RuntimeException e) {
            slot.close();
            throw e;
        }
    }

    /** One client's follow of one log; close it when done. */
    public final class Follow implements AutoCloseable {
        private final UserTasks tasks;
        private final TaskRecord opened;
        private final boolean fresh;
        private final Limiter.Slot slot;
        private TaskLogs.Reader reader;
        /** The last event read (0: none yet): where a reader opened again starts after. */
        private long lastSequence;

        private Follow(
                UserTasks tasks,
                TaskRecord opened,
                long afterSequence,
                boolean fresh,
                TaskLogs.Reader reader,
                Limiter.Slot slot) {
            this.tasks = tasks;
            this.opened = opened;
            this.lastSequence = afterSequence;
            this.fresh = fresh;
            this.reader = reader;
            this.slot = slot;
        }

        /**
         * A new reader from the last event read on: the ordered consumer behind a reader has been seen to stop
         * delivering under load (a task's whole run went unseen); one opened again starts where the client is. When
         * none can be made now, the old reader is kept (said, not thrown).
         */
        private boolean tryReopen() {
            try {
                TaskLogs.Reader replacement = nats.logs().reader(opened.id(), lastSequence);
                reader.close();
                reader = replacement;
                return true;
            } catch (IOException | JetStreamApiException | RuntimeException e) {
                log.warn("log of task {}: could not read it again: {}", opened.id(), e.toString());
                return false;
            }
        }

        /**
         * Sends the events to {@code sink} until the log ends (or the task expires); a new client first gets the
         * record's status. Returns the number of events sent.
         */
        public int run(Sink sink) throws IOException, JetStreamApiException, InterruptedException {
            UUID taskId = opened.id();
            long start = System.nanoTime();
            int sent = 0;
            if (fresh) {
                sink.event(null, TaskLogs.Kind.STATUS.wireName(), statusJson(opened.status()));
            }
            long lastWrite = System.nanoTime();
            long idleSince = System.nanoTime();
            long checkedRevision = -1; // the record's revision at the last idle check
            boolean eventsSinceCheck = false;
            boolean drained = false;
            int failures = 0;
            while (true) {
                TaskLogs.Event event;
                try {
                    event = reader.next(READ_WAIT);
                    failures = 0;
                } catch (IOException e) {
                    // the consumer behind the reader is gone (deleted, lost with a server): a new one, a few times
                    if (++failures > 3) {
                        throw e;
                    }
                    log.info("log of task {}: {}; reading again", taskId, e.getMessage());
                    if (!tryReopen()) {
                        Thread.sleep(READ_WAIT.toMillis()); // NATS is away: counted, and tried again
                    }
                    continue;
                }
                long now = System.nanoTime();
                if (event != null) {
                    sink.event(event.sequence(), event.kind().wireName(), event.data());
                    sent++;
                    lastSequence = event.sequence();
                    eventsSinceCheck = true;
                    lastWrite = now;
                    idleSince = now;
                    if (event.kind() == TaskLogs.Kind.END) {
                        break;
                    }
                    continue;
                }
                if (now - idleSince >= IDLE_CHECK.toNanos()) {
                    idleSince = now;
                    Optional<UserTasks.Versioned> record = tasks.versioned(taskId);
                    if (record.isEmpty()) {
                        break; // expired with the retention: nothing more will come
                    }
                    boolean moved = checkedRevision < 0
                            ? record.get().record().status() != opened.status()
                            : record.get().revision() != checkedRevision;
                    checkedRevision = record.get().revision();
                    boolean stalled = moved && !eventsSinceCheck;
                    eventsSinceCheck = false;
                    if (record.get().record().status().isFinal()) {
                        if (!drained) {
                            // what the worker published may still be on its way, or unseen by a stalled reader:
                            // read once more from the last event before making an end up
                            drained = true;
                            tryReopen(); // if it cannot, the end below is made up all the same
                            idleSince = now - IDLE_CHECK.toNanos() + READ_WAIT.toNanos() * 2;
                            continue;
                        }
                        sink.event(
                                null,
                                TaskLogs.Kind.END.wireName(),
                                statusJson(record.get().record().status()));
                        break;
                    }
                    if (stalled) {
                        // the record moved, but no event came since the last check: the worker publishes one with
                        // each change, so the reader has stopped
                        log.info("log of task {}: no event since the record changed; reading again", taskId);
                        tryReopen();
                    }
                }
                if (now - lastWrite >= KEEPALIVE.toNanos()) {
                    sink.keepalive();
                    lastWrite = now;
                }
            }
            log.info(
                    "log of task {} streamed: {} events in {} ms",
                    taskId,
                    sent,
                    (System.nanoTime() - start) / 1_000_000);
            return sent;
        }

        @Override
        public void close() {
            reader.close();
            slot.close();
        }
    }

    /** The data of a status or end event, as the workers publish it. */
    static String statusJson(TaskStatus status) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("status", status.name());
        body.put("code", status.code());
        return new String(Json.toBytes(body), StandardCharsets.UTF_8);
    }
}
