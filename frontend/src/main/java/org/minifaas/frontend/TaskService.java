package org.minifaas.frontend;

import io.nats.client.JetStreamApiException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.minifaas.common.model.Task;
import org.minifaas.common.model.TaskRecord;
import org.minifaas.common.model.TaskStatus;
import org.minifaas.common.nats.NatsLayer;
import org.minifaas.common.nats.QuotaExceededException;
import org.minifaas.common.nats.ResultStore;
import org.minifaas.common.nats.Retries;
import org.minifaas.common.nats.UserTasks;
import org.minifaas.common.nats.WebhookQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The task API's logic: create, inspect, wait for, cancel and collect tasks of one user. Knows nothing of HTTP. */
public final class TaskService {
    private static final Logger log = LoggerFactory.getLogger(TaskService.class);
    /** The result files a zip may carry, in this order. */
    static final List<String> RESULT_FILES = List.of("stdout.txt", "stderr.txt", "error.txt");

    static final String CANCELLED_PENDING = "cancelled before it ran";
    static final String CANCELLED_RUNNING = "cancelled by its owner while running";
    /** How often a waiting read reads the record again when no write of it has come. */
    static final long WAIT_READ_AGAIN_MS = 1000;

    private final NatsLayer nats;
    private final Limiter waiting;
    /** Result downloads (whole results on the heap), see {@link #resultReadSlots}. */
    private final Limiter resultReads;
    /** Listings (up to a page of whole records on the heap, a user's parameters included). */
    private final Limiter listings;

    /** Listings at once, of all users and of one; more are refused (503, 429) instead of filling the heap. */
    static final int MAX_LISTINGS = 16;

    static final int MAX_LISTINGS_PER_USER = 4;
    private final FrontendMetrics metrics;

    /** With the default cap per user ({@link FrontendConfig#DEFAULT_MAX_WAITING_REQUESTS_PER_USER}). */
    public TaskService(NatsLayer nats, int maxWaiting) {
        this(nats, maxWaiting, FrontendConfig.DEFAULT_MAX_WAITING_REQUESTS_PER_USER);
    }

    /**
     * @param maxWaiting        reads waiting for a task to end at once ({@link #await}), of all users; more are refused
     * @param maxWaitingPerUser such reads one user may hold at once; more are refused
     */
    public TaskService(NatsLayer nats, int maxWaiting, int maxWaitingPerUser) {
        this(nats, maxWaiting, maxWaitingPerUser, FrontendMetrics.none());
    }

    /** @param metrics where tasks created are counted */
    public TaskService(NatsLayer nats, int maxWaiting, int maxWaitingPerUser, FrontendMetrics metrics) {
        this.nats = nats;
        this.metrics = metrics;
        this.waiting = new Limiter(maxWaiting, maxWaitingPerUser, "waiting reads");
        int reads = resultReadSlots(
                Runtime.getRuntime().maxMemory(), nats.settings().maxResultBytes());
        this.resultReads = new Limiter(reads, Math.max(1, (reads + 1) / 2), "result downloads");
        this.listings = new Limiter(MAX_LISTINGS, MAX_LISTINGS_PER_USER, "task listings");
    }

    /**
     * Result downloads at once: each holds up to two copies of a result (MAX_RESULT_BYTES) on the heap, and together
     * they may take half of it; at least 1, at most 8 (3 with the frontend's 128 MiB heap and 10 MiB results). Twenty downloads of a 5 MiB result at once took the
     * frontend's whole heap before there was a cap.
     */
    static int resultReadSlots(long maxHeap, long maxResultBytes) {
        return (int) Math.max(1, Math.min(8, maxHeap / 2 / (2 * Math.max(1, maxResultBytes))));
    }

    /** The waiting reads {@code userId} holds now (tests). */
    int waitingOf(String userId) {
        return waiting.heldBy(userId);
    }

    /** A creation's outcome: the record, and whether this request created it (false: an Idempotency-Key repeat). */
    public record Created(TaskRecord record, boolean isNew) {}

    /** A cancellation's outcome: the CANCELLED record, and whether a worker was running the task (it is told to stop). */
    public record Cancelled(TaskRecord record, boolean wasRunning) {}

    /** One page of a user's records, newest first, and the cursor of the next page (null on the last). */
    public record Page(List<TaskRecord> records, String nextCursor) {}

    /** Stores a task of the original API as PENDING and enqueues it. */
    public UUID create(String userId, CreateTaskRequest request)
            throws IOException, JetStreamApiException, QuotaExceededException, InterruptedException {
        return create(userId, request, null).record().id();
    }

    /**
     * Stores the task as PENDING and enqueues it; a task that cannot be enqueued is not kept. Both steps are repeated
     * for up to {@link Retries#LEADER_CHANGE} while NATS does not answer (a cluster electing a leader): with the same
     * task id, so that a step stored although its answer was lost is not done twice. With an {@code idempotencyKey},
     * only the first request of the user with that key (within the retention) chooses the task's id: a retry with the
     * key gets that task, and completes its creation if the first request could not (every step is repeatable).
     */
    public Created create(String userId, CreateTaskRequest request, String idempotencyKey)
            throws IOException, JetStreamApiException, QuotaExceededException, InterruptedException {
        if (idempotencyKey == null) {
            return new Created(store(userId, UUID.randomUUID(), request), true);
        }
        UUID mine = UUID.randomUUID();
        Optional<UUID> first = Retries.repeatable(
                "claim an Idempotency-Key",
                Retries.LEADER_CHANGE,
                () -> nats.idempotency().claim(userId, idempotencyKey, mine));
        if (first.isEmpty()) {
            try {
                return new Created(store(userId, mine, request), true);
            } catch (QuotaExceededException | DomainException e) {
                release(userId, idempotencyKey); // refused: the key may be used again
                throw e;
            }
        }
        Optional<TaskRecord> existing = findRecord(userId, first.get());
        if (existing.isPresent()) {
            log.info("task {} returned again for a repeated Idempotency-Key", first.get());
            return new Created(existing.get(), false);
        }
        // the first request with this key is still creating the task, or failed half-way: finishing it here is safe
        // (the same id: the record is created once, the queue drops a second message with the same id)
        log.info("task {} of a repeated Idempotency-Key not stored yet; completing its creation", first.get());
        return new Created(store(userId, first.get(), request), false);
    }

    private void release(String userId, String idempotencyKey) {
        try {
            nats.idempotency().release(userId, idempotencyKey);
        } catch (IOException | JetStreamApiException | RuntimeException e) {
            // it expires with the retention; until then a retry with this key completes the creation it names
            log.warn("an Idempotency-Key of a refused creation could not be released: {}", e.toString());
        }
    }

    private TaskRecord store(String userId, UUID taskId, CreateTaskRequest request)
            throws IOException, JetStreamApiException, QuotaExceededException, InterruptedException {
        Task task = new Task(
                taskId,
                userId,
                request.url(),
                request.parameters(),
                request.ref(),
                request.timeoutSeconds(),
                request.callbackUrl(),
                TaskRecord.now(),
                request.runtime());
        TaskRecord record = TaskRecord.pending(task);
        UserTasks tasks =
                Retries.repeatable("open the tasks of a user", Retries.LEADER_CHANGE, () -> nats.userTasks(userId));
        Retries.<Void, QuotaExceededException>repeatable("record task " + taskId, Retries.LEADER_CHANGE, () -> {
            tasks.createPending(record);
            return null;
        });
        try {
            // the task id is the message's de-duplication id: a repeat of a publish that was stored is dropped
            Retries.<Void, RuntimeException>repeatable("enqueue task " + taskId, Retries.LEADER_CHANGE, () -> {
                nats.taskQueue().publish(task);
                return null;
            });
        } catch (IOException | JetStreamApiException | RuntimeException e) {
            log.error("task {} could not be enqueued; removing it: {}", taskId, e.toString());
            try {
                tasks.forget(taskId);
            } catch (IOException | JetStreamApiException | RuntimeException ignored) {
                // its entry expires with the retention
            }
            throw new DomainException.Unavailable("The task queue is not available; nothing was stored, try again.");
        }
        metrics.taskCreated();
        log.info("task {} created ({} parameters)", taskId, request.parameters().size());
        return record;
    }

    /** The record of one of the user's tasks; another user's task is as unknown as a missing one. */
    public TaskRecord record(String userId, UUID taskId) throws IOException, JetStreamApiException {
        return findRecord(userId, taskId).orElseThrow(() -> new DomainException.TaskNotFound(taskId));
    }

    /** The record, or empty; never creates the user's bucket. */
    private Optional<TaskRecord> findRecord(String userId, UUID taskId) throws IOException, JetStreamApiException {
        Optional<UserTasks> tasks = nats.existingUserTasks(userId);
        return tasks.isEmpty() ? Optional.empty() : tasks.get().record(taskId);
    }

    public TaskStatus status(String userId, UUID taskId) throws IOException, JetStreamApiException {
        return record(userId, taskId).status();
    }

    /** Ids of the user's active tasks. */
    public List<String> list(String userId) throws IOException, JetStreamApiException, InterruptedException {
        Optional<UserTasks> tasks = nats.existingUserTasks(userId);
        return tasks.isEmpty() ? List.of() : tasks.get().taskIds();
    }

    /**
     * The records after {@code after} (null: from the newest), with the given status if any, at most {@code limit}.
     */
    public Page page(String userId, TaskStatus status, int limit, PageCursor after)
            throws IOException, JetStreamApiException, InterruptedException {
        Optional<UserTasks> tasks = nats.existingUserTasks(userId);
        if (tasks.isEmpty()) {
            return new Page(List.of(), null);
        }
        List<TaskRecord> matching;
        try (Limiter.Slot ignored = listings.acquire(userId)) {
            // the whole list is at most MAX_REQUESTS_PER_CLIENT records, read in one consumer
            matching = tasks.get().records().stream()
                    .filter(r -> status == null || r.status() == status)
                    .filter(r -> after == null || after.precedes(r))
                    .sorted(PageCursor.NEWEST_FIRST)
                    .toList();
        }
        if (matching.size() <= limit) {
            return new Page(matching, null);
        }
        List<TaskRecord> page = matching.subList(0, limit);
        return new Page(page, PageCursor.of(page.get(limit - 1)).encode());
    }

    /**
     * The record as soon as the task is final or {@code wait} has passed, whichever comes first: woken by the
     * record's own writes as NATS publishes them (so within milliseconds of the final one; a write heard but not yet
     * readable is read again within ~200 ms), and read again at least every {@link #WAIT_READ_AGAIN_MS} in case a
     * write was missed (a reconnect). At most {@code maxWaiting} such
     * reads wait at once: beyond, {@link DomainException.Busy}; and at most {@code maxWaitingPerUser} of one user:
     * beyond, {@link DomainException.TooManyForUser}. A read whose client has left keeps its slot until its wait
     * is over (Jetty does not read the connection of a request being handled, so it does not see it close): at
     * most {@link TaskController#MAX_WAIT_SECONDS}.
     */
    public TaskRecord await(String userId, UUID taskId, Duration wait)
            throws IOException, JetStreamApiException, InterruptedException {
        TaskRecord record = record(userId, taskId);
        if (record.status().isFinal() || wait.isZero()) {
            return record;
        }
        long deadline = System.nanoTime() + wait.toNanos();
        UserTasks tasks = nats.existingUserTasks(userId).orElseThrow(() -> new DomainException.TaskNotFound(taskId));
        try (Limiter.Slot ignored = waiting.acquire(userId);
                UserTasks.RecordChanges changes = tasks.changes(taskId)) {
            UserTasks.Versioned seen = read(tasks, taskId); // after the subscription: a later write is seen
            while (!seen.record().status().isFinal()) {
                long leftMs = (deadline - System.nanoTime()) / 1_000_000;
                if (leftMs <= 0) {
                    break;
                }
                boolean written = changes.next(Duration.ofMillis(Math.min(WAIT_READ_AGAIN_MS, leftMs)));
                long before = seen.revision();
                seen = read(tasks, taskId);
                // the subscription hears a write when it is published, which in a cluster can be before the stream
                // has it (or a compare-and-set the stream refuses): read again shortly rather than after a second
                for (long pause : WRITE_NOT_STORED_YET_MS) {
                    if (!written || seen.revision() != before || System.nanoTime() - deadline > 0) {
                        break;
                    }
                    Thread.sleep(pause);
                    seen = read(tasks, taskId);
                }
            }
            return seen.record();
        }
    }

    /** The pauses before reading again after a write was heard but not read (see {@link #await}). */
    private static final long[] WRITE_NOT_STORED_YET_MS = {10, 25, 50, 100};

    private static UserTasks.Versioned read(UserTasks tasks, UUID taskId) throws IOException, JetStreamApiException {
        return tasks.versioned(taskId).orElseThrow(() -> new DomainException.TaskNotFound(taskId));
    }

    /**
     * Cancels a task that has not ended: the record becomes CANCELLED in one compare-and-set write (a worker
     * starting or ending it at the same moment either sees it or makes this write retry), then the log is ended,
     * a running task's worker is told to stop, a queued task gets its {@code error.txt}, and a callback is queued.
     * Those follow-ups are best effort: the record is the truth, and a worker checks it before it records an end.
     */
    public Cancelled cancel(String userId, UUID taskId) throws IOException, JetStreamApiException {
        UserTasks tasks = nats.existingUserTasks(userId).orElseThrow(() -> new DomainException.TaskNotFound(taskId));
        AtomicReference<TaskStatus> before = new AtomicReference<>();
        TaskRecord after = tasks.update(taskId, r -> {
                    before.set(r.status());
                    if (r.status().isFinal()) {
                        return r;
                    }
                    return r.cancelled(r.status() == TaskStatus.EXECUTING ? CANCELLED_RUNNING : CANCELLED_PENDING);
                })
                .orElseThrow(() -> new DomainException.TaskNotFound(taskId));
        if (before.get().isFinal()) {
            throw new DomainException.TaskAlreadyFinal(taskId, before.get());
        }
        boolean wasRunning = before.get() == TaskStatus.EXECUTING;
        if (wasRunning) {
            nats.cancels().send(taskId);
        } else {
            storeCancelledResult(taskId);
        }
        try {
            nats.logs().end(taskId, TaskStatus.CANCELLED);
        } catch (IOException | JetStreamApiException | RuntimeException e) {
            // a log follower ends by itself once it sees the record final
            log.warn("task {}: the end of its log could not be published: {}", taskId, e.toString());
        }
        if (after.callback() != null) {
            try {
                nats.webhooks().publish(new WebhookQueue.Job(taskId, userId));
            } catch (IOException | JetStreamApiException | RuntimeException e) {
                log.error("task {}: its callback could not be queued: {}", taskId, e.toString());
            }
        }
        log.info("task {} cancelled ({})", taskId, after.error());
        return new Cancelled(after, wasRunning);
    }

    private void storeCancelledResult(UUID taskId) {
        try {
            nats.results(taskId)
                    .write(Map.of("error.txt", (CANCELLED_PENDING + "\n").getBytes(StandardCharsets.UTF_8)));
        } catch (IOException | JetStreamApiException | ResultStore.ResultTooLargeException | RuntimeException e) {
            log.warn("task {}: the result of its cancellation could not be stored: {}", taskId, e.toString());
        }
    }

    /** The zipped result files, or empty while the task has not finished (the original API). */
    public Optional<byte[]> resultZip(String userId, UUID taskId)
            throws IOException, JetStreamApiException, InterruptedException {
        TaskStatus status = status(userId, taskId);
        return status.isFinal() ? Optional.of(zipOfResults(userId, taskId)) : Optional.empty();
    }

    /** The zipped result files of a finished task; {@link DomainException.TaskNotFinished} before. */
    public byte[] finishedResultZip(String userId, UUID taskId)
            throws IOException, JetStreamApiException, InterruptedException {
        TaskStatus status = status(userId, taskId);
        if (!status.isFinal()) {
            throw new DomainException.TaskNotFinished(taskId, status);
        }
        return zipOfResults(userId, taskId);
    }

    private byte[] zipOfResults(String userId, UUID taskId)
            throws IOException, JetStreamApiException, InterruptedException {
        try (Limiter.Slot ignored = resultReads.acquire(userId)) {
            Optional<byte[]> stored = nats.results(taskId).readZip();
            if (stored.isPresent()) {
                List<String> names = ResultStore.entryNames(stored.get());
                if (!names.isEmpty()
                        && names.equals(
                                RESULT_FILES.stream().filter(names::contains).toList())) {
                    return stored.get(); // already the flat zip of the known files, in order: no second copy
                }
            }
            Map<String, byte[]> files = stored.isEmpty() ? Map.of() : ResultStore.unzip(stored.get());
            if (files.isEmpty()) {
                files = Map.of(
                        "error.txt", "No result files were stored for this task.\n".getBytes(StandardCharsets.UTF_8));
            }
            return zip(files);
        }
    }

    /** One result file of a finished task ({@link #RESULT_FILES} only). */
    public byte[] resultFile(String userId, UUID taskId, String name)
            throws IOException, JetStreamApiException, InterruptedException {
        TaskStatus status = status(userId, taskId);
        if (!RESULT_FILES.contains(name)) {
            throw new DomainException.FileNotFound(taskId, name);
        }
        if (!status.isFinal()) {
            throw new DomainException.TaskNotFinished(taskId, status);
        }
        try (Limiter.Slot ignored = resultReads.acquire(userId)) {
            Optional<byte[]> stored = nats.results(taskId).readZip();
            return (stored.isEmpty() ? Optional.<byte[]>empty() : ResultStore.entry(stored.get(), name))
                    .orElseThrow(() -> new DomainException.FileNotFound(taskId, name));
        }
    }

    /** A flat zip of the known result files (no directories, no other names). */
    static byte[] zip(Map<String, byte[]> files) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(out)) {
            for (String name : RESULT_FILES) {
                byte[] content = files.get(name);
                if (content != null) {
                    zip.putNextEntry(new ZipEntry(name));
                    zip.write(content);
                    zip.closeEntry();
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}
