package org.minifaas.worker;

import io.nats.client.JetStreamApiException;
import io.nats.client.Message;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.minifaas.common.Json;
import org.minifaas.common.Threads;
import org.minifaas.common.model.Task;
import org.minifaas.common.model.TaskRecord;
import org.minifaas.common.model.TaskStatus;
import org.minifaas.common.nats.NatsLayer;
import org.minifaas.common.nats.ResultStore;
import org.minifaas.common.nats.TaskQueue;
import org.minifaas.common.nats.UserTasks;
import org.minifaas.common.nats.WebhookQueue;
import org.minifaas.common.nats.WorkerRegistry;
import org.minifaas.worker.sandbox.Cancellation;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes tasks from the shared durable queue, {@code concurrency} at a time, and runs them. A message
 * is acknowledged only after the task's results and then its execution record are stored; while a task runs, an
 * in-progress signal keeps its message from being redelivered. A message delivered more often than
 * TASK_MAX_DELIVERIES (its workers died) is given up: UNEXPECTED_ERROR, then acknowledged. A task cancelled by its
 * owner (record CANCELLED, then a cancel signal) is not started, or is killed where it runs; its record stays
 * CANCELLED.
 */
public final class Worker implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Worker.class);

    private final NatsLayer nats;
    private final TaskExecutor executor;
    private final int concurrency;
    /** False with SANDBOX=off: every heartbeat says so, and /getSystemStatus warns the admins. */
    private final boolean sandboxed;
    /** LOG_MAX_BYTES: live output published per task. */
    private final long logMaxBytes;
    /** How long a finished task's results and status are retried while NATS is unreachable. */
    private final Duration persistFor;

    private final WorkerMetrics metrics;
    private final List<Thread> loops = new ArrayList<>();
    private final ScheduledExecutorService heartbeats =
            Executors.newSingleThreadScheduledExecutor(Threads.daemon("ack-heartbeat"));
    private final String workerId = WorkerRegistry.processId(System.getenv("HOSTNAME"));
    private final AtomicInteger busy = new AtomicInteger();
    /**
     * Tasks running in this process, with what cancels each: a redelivery of one of them (its progress signals were
     * lost) is not run again, and a cancel signal finds it here.
     */
    private final Map<UUID, Cancellation> runningHere = new ConcurrentHashMap<>();

    private AutoCloseable cancelSignals;
    private volatile boolean running;

    /** {@code concurrency} slots sharing one executor; every task runs in a sandbox of its own. */
    public Worker(NatsLayer nats, TaskExecutor executor, int concurrency) {
        this(nats, executor, concurrency, true, WorkerConfig.DEFAULT_LOG_MAX_BYTES);
    }

    public Worker(NatsLayer nats, TaskExecutor executor, int concurrency, boolean sandboxed, long logMaxBytes) {
        this(nats, executor, concurrency, sandboxed, logMaxBytes, WorkerMetrics.none());
    }

    public Worker(
            NatsLayer nats,
            TaskExecutor executor,
            int concurrency,
            boolean sandboxed,
            long logMaxBytes,
            WorkerMetrics metrics) {
        this.nats = nats;
        this.metrics = metrics;
        this.executor = executor;
        this.concurrency = concurrency;
        this.sandboxed = sandboxed;
        this.logMaxBytes = logMaxBytes;
        Duration twiceAckWait = nats.settings().ackWait().multipliedBy(2);
        this.persistFor = twiceAckWait.compareTo(Duration.ofMinutes(2)) > 0 ? twiceAckWait : Duration.ofMinutes(2);
    }

    public synchronized void start() throws IOException, JetStreamApiException {
        nats.taskQueue().ensure();
        warmNatsAndJson();
        cancelSignals = nats.cancels().listen(this::cancel);
        running = true;
        for (int i = 0; i < concurrency; i++) {
            Thread t = new Thread(this::loop, "worker-" + i);
            loops.add(t);
            t.start();
        }
        heartbeats.scheduleAtFixedRate(this::beat, 0, WorkerRegistry.HEARTBEAT.toMillis(), TimeUnit.MILLISECONDS);
        log.info("worker {} started: {} task(s) at a time", workerId, concurrency);
    }

    /** Slots running a task now. */
    public int busySlots() {
        return busy.get();
    }

    /**
     * Loads and compiles what a first task's queue, record and result steps use, with reads, and one write of a
     * made-up task's results removed at once (nothing of any user is written): the first task is then not slower than
     * the next ones (TaskExecutor.warm does the same for the clone, build and run). Without the write, the first
     * task's results took ~10 ms more to store than the next ones'.
     */
    private void warmNatsAndJson() {
        try {
            Task sample = new Task(
                    UUID.randomUUID(),
                    "warm-up",
                    "https://example.com/warm-up.git",
                    List.of("a"),
                    "main",
                    0,
                    null,
                    TaskRecord.now());
            TaskRecord record = TaskRecord.pending(sample)
                    .started(workerId, 1)
                    .finished(TaskStatus.FINISHED, "0".repeat(40), 1L, 0L, 1L, 0, true, null);
            Json.fromBytes(Json.toBytes(sample), Task.class);
            Json.fromBytes(Json.toBytes(record), TaskRecord.class);
            ResultStore results = nats.results(sample.taskId()); // the results store all tasks share
            results.exists();
            results.write(Map.of("stdout.txt", "warm-up\n".getBytes(StandardCharsets.UTF_8)));
            results.delete();
            nats.taskQueue().consumer();
        } catch (IOException | JetStreamApiException | ResultStore.ResultTooLargeException | RuntimeException e) {
            log.debug("warm-up of the NATS steps skipped: {}", e.toString());
        }
    }

    /** A cancel signal: stops the task if it runs here (every worker hears every signal). */
    private void cancel(UUID taskId) {
        Cancellation cancellation = runningHere.get(taskId);
        if (cancellation != null && !cancellation.isCancelled()) {
            cancellation.cancel();
            log.info("task {} cancelled by its owner; stopping it", taskId);
        }
    }

    /** Tells the system this worker is alive (the registry counts live workers). */
    private void beat() {
        try {
            nats.workers()
                    .beat(
                            workerId,
                            "{\"concurrency\":" + concurrency + ",\"busy\":" + busy.get() + ",\"sandbox\":"
                                    + (sandboxed ? "\"on\"" : "\"" + WorkerRegistry.SANDBOX_OFF + "\"") + "}");
        } catch (Exception e) {
            log.warn("heartbeat failed: {}", e.toString());
        }
    }

    private void loop() {
        nats.taskQueue().take(() -> running, message -> {
            busy.incrementAndGet();
            try {
                handle(message);
            } finally {
                busy.decrementAndGet();
            }
        });
    }

    void handle(Message message) throws InterruptedException {
        Task task;
        try {
            task = TaskQueue.decode(message);
        } catch (RuntimeException e) {
            log.error("dropping an unreadable task message: {}", e.toString());
            message.term();
            return;
        }
        long delivered = message.metaData().deliveredCount();
        // registered before the record says EXECUTING: from then on, a cancel signal finds the task here
        Cancellation cancellation = new Cancellation();
        if (runningHere.putIfAbsent(task.taskId(), cancellation) != null) {
            // JetStream redelivered it while this process still runs it (NATS came back after an outage that ate
            // the progress signals, or a stalled link held them back): the running execution acknowledges it when it
            // ends. Asked before the count of deliveries, which such redeliveries raise too: a high count alone does
            // not mean that the task's workers died.
            message.inProgress();
            log.info(
                    "task {} redelivered (delivery {}) while running here; left to the running execution",
                    task.taskId(),
                    delivered);
            return;
        }
        try {
            if (delivered > nats.settings().maxDeliveries()) {
                giveUp(message, task, delivered);
            } else {
                execute(message, task, delivered, cancellation);
            }
        } finally {
            runningHere.remove(task.taskId(), cancellation);
        }
    }

    private void execute(Message message, Task task, long delivered, Cancellation cancellation)
            throws InterruptedException {
        UUID id = task.taskId();
        UserTasks tasks;
        try {
            tasks = nats.userTasks(task.userId());
        } catch (IOException | JetStreamApiException e) {
            log.error("task {} could not be started; it will be redelivered: {}", id, e.toString());
            return;
        }
        long ackEveryMs = Math.max(500, nats.settings().ackWait().toMillis() / 3);
        AtomicLong touched = new AtomicLong(System.nanoTime()); // the record's last write by this run
        ScheduledFuture<?> heartbeat = heartbeats.scheduleAtFixedRate(
                () -> inProgress(message, id, tasks, cancellation, touched),
                ackEveryMs,
                ackEveryMs,
                TimeUnit.MILLISECONDS);
        try {
            int attempt = (int) delivered;
            // retried like the final writes: a bucket the retention sweep holds for a moment refuses writes
            Optional<TaskRecord> record = persistently(
                    "mark task " + id + " started",
                    () -> tasks.update(id, r -> r.status().isFinal() ? r : r.started(workerId, attempt)));
            TaskStatus found = record.map(TaskRecord::status).orElse(null);
            if (found != null
                    && found.isFinal()
                    && found != TaskStatus.CANCELLED
                    && !nats.results(id).exists()) {
                log.warn("task {} is final but has no results; running it again", id);
                record = persistently(
                        "mark task " + id + " started again",
                        () -> tasks.update(
                                id, r -> r.status() == TaskStatus.CANCELLED ? r : r.started(workerId, attempt)));
            }
            TaskStatus before = record.map(TaskRecord::status).orElse(null);
            if (before == TaskStatus.CANCELLED) {
                heartbeat.cancel(false);
                message.ackSync(Duration.ofSeconds(5));
                metrics.taskEnded(record.get());
                log.info("task {} was cancelled before it ran; not run", id);
                return;
            }
            if (before != null && before.isFinal()) {
                // finished before, but its acknowledgement was lost: never run a task twice
                announceEnd(task, before);
                heartbeat.cancel(false);
                message.ackSync(Duration.ofSeconds(5));
                log.info("task {} already finished; acknowledged again", id);
                return;
            }
            if (record.isEmpty()) {
                log.warn("task {} has no record (expired?); running it all the same", id);
            }
            log.info("task {} started (delivery {})", id, delivered);
            Execution execution;
            try (LiveLog live = LiveLog.start(nats.logs(), id, logMaxBytes)) {
                execution = executor.execute(task, QueuePosition.of(message), live, cancellation);
            }
            // read once: to see whether another delivery finished it meanwhile, and as the base of the final write
            Optional<UserTasks.Versioned> now = tasks.versioned(id);
            if (now.isPresent()
                    && now.get().record().status().isFinal()
                    && now.get().record().status() != TaskStatus.CANCELLED
                    && nats.results(id).exists()) {
                // another worker ran a redelivery of it to the end first: its outcome stands, never overwritten
                heartbeat.cancel(false);
                message.ackSync(Duration.ofSeconds(5));
                log.info(
                        "task {} was finished meanwhile by another delivery; this outcome ({}) dropped",
                        id,
                        execution.reason());
                return;
            }
            // results first, then the record: a task is never final without its results. A record cancelled
            // meanwhile keeps its status and reason (the output so far is stored all the same), and gains what the
            // run found out (commit, timings) if it got that far.
            Ending ending = persistently("store the results of task " + id, () -> store(task, execution));
            Optional<TaskRecord> ended = persistently(
                    "record task " + id + " as " + ending.status(),
                    () -> tasks.update(id, now.orElse(null), r -> {
                        if (r.status() == TaskStatus.CANCELLED) {
                            return r.commit() != null || execution.commit() == null
                                    ? r
                                    : r.withRunFacts(
                                                    execution.commit(),
                                                    execution.cloneMs(),
                                                    execution.buildMs(),
                                                    execution.runMs(),
                                                    execution.exitCode(),
                                                    execution.binaryCached())
                                            .withCloneSkipped(execution.cloneSkipped())
                                            .withRuntime(execution.runtime(), execution.toolchain());
                        }
                        return r.status().isFinal()
                                ? r
                                : r.finished(
                                                ending.status(),
                                                execution.commit(),
                                                execution.cloneMs(),
                                                execution.buildMs(),
                                                execution.runMs(),
                                                execution.exitCode(),
                                                execution.binaryCached(),
                                                ending.error())
                                        .withCloneSkipped(execution.cloneSkipped())
                                        .withRuntime(execution.runtime(), execution.toolchain());
                    }));
            if (ended.isEmpty()) {
                log.error(
                        "task {} has no record any more (expired or removed): its {} outcome is stored but cannot be "
                                + "found by its user",
                        id,
                        ending.status());
            }
            TaskStatus finalStatus = ended.map(TaskRecord::status).orElse(ending.status());
            persistently("announce the end of task " + id, () -> announceEnd(task, finalStatus));
            heartbeat.cancel(false);
            message.ackSync(Duration.ofSeconds(5));
            ended.ifPresent(metrics::taskEnded);
            log.info("task {} {}: {}", id, finalStatus, execution.reason());
        } catch (InterruptedException e) {
            // shutting down mid-task: hand it back for another worker. The interrupt is cleared for these last
            // NATS calls (an interrupted thread's requests fail at once), and set again after.
            Thread.interrupted();
            heartbeat.cancel(false);
            try {
                tasks.update(id, r -> r.status() == TaskStatus.EXECUTING ? r.requeued() : r);
            } catch (IOException | JetStreamApiException | RuntimeException ignored) {
                // the next worker marks it EXECUTING anyway
            }
            message.nak();
            try {
                nats.connection().flush(Duration.ofSeconds(2)); // the process may exit right after this
            } catch (Exception ignored) {
                // unacknowledged, it is redelivered after the ack wait anyway
            }
            log.info("task {} handed back", id);
            throw e;
        } catch (Exception e) {
            // NATS failed while recording: leave the message unacknowledged, it is redelivered
            heartbeat.cancel(false);
            log.error("task {} could not be recorded; it will be redelivered: {}", id, e.toString());
        } finally {
            heartbeat.cancel(false);
        }
    }

    /**
     * Keeps the message from being redelivered while the task runs, and cancels the run when its record says
     * CANCELLED (the cancel signal may have been lost: it is sent once, to whoever listens then).
     */
    private void inProgress(Message message, UUID id, UserTasks tasks, Cancellation cancellation, AtomicLong touched) {
        try {
            message.inProgress();
            if (!cancellation.isCancelled() && tasks.status(id).orElse(null) == TaskStatus.CANCELLED) {
                cancellation.cancel();
                log.info("task {} found cancelled in its record; stopping it", id);
            }
            // a record lives TASK_RETENTION_SECONDS from its last write: one running longer is written again
            if (System.nanoTime() - touched.get() >= nats.settings().retention().toNanos() / 2) {
                tasks.touch(id);
                touched.set(System.nanoTime());
            }
        } catch (Exception e) {
            log.debug("task {}: progress signal failed: {}", id, e.toString());
        }
    }

    /** The end of a task for those following it: the last events of its live log, and its webhook if it has one. */
    private Void announceEnd(Task task, TaskStatus status) throws IOException, JetStreamApiException {
        nats.logs().end(task.taskId(), status);
        if (task.callbackUrl() != null) {
            nats.webhooks().publish(new WebhookQueue.Job(task.taskId(), task.userId()));
        }
        return null;
    }

    /** The status and one-line error the record gets once the results are stored. */
    private record Ending(TaskStatus status, String error) {}

    /**
     * Stores the result files. Results over MAX_RESULT_BYTES turn the task into UNEXPECTED_ERROR with the reason
     * stored instead; a NATS failure is thrown, for {@link #persistently} to retry.
     */
    private Ending store(Task task, Execution execution) throws Exception {
        ResultStore results = nats.results(task.taskId());
        try {
            results.write(execution.files());
            return new Ending(execution.status(), execution.error());
        } catch (ResultStore.ResultTooLargeException e) {
            log.error("task {}: results could not be stored: {}", task.taskId(), e.getMessage());
            String reason = "results could not be stored: " + e.getMessage();
            results.write(Map.of("error.txt", (reason + "\n").getBytes(StandardCharsets.UTF_8)));
            return new Ending(TaskStatus.UNEXPECTED_ERROR, reason);
        }
    }

    /** A write to NATS that must happen: retried with back-off while NATS is unreachable, for a bounded time. */
    @FunctionalInterface
    interface Write<T> {
        T run() throws Exception;
    }

    <T> T persistently(String what, Write<T> write) throws Exception {
        long deadline = System.nanoTime() + persistFor.toNanos();
        long backoffMs = 100;
        while (true) {
            try {
                return write.run();
            } catch (InterruptedException e) {
                throw e;
            } catch (Exception e) {
                if (System.nanoTime() > deadline) {
                    throw e; // left unacknowledged: JetStream redelivers the task
                }
                log.warn("could not {} ({}); retrying in {} ms", what, e.toString(), backoffMs);
                Thread.sleep(backoffMs);
                backoffMs = Math.min(backoffMs * 2, 5_000);
            }
        }
    }

    /**
     * A task delivered more than TASK_MAX_DELIVERIES times: ended UNEXPECTED_ERROR, unless it has ended already (its
     * end's acknowledgement was lost: acknowledged now, its record and results left as they are) or its record says
     * a worker that is alive runs it (a link to NATS that stalled past the ack wait: handed back for later).
     */
    private void giveUp(Message message, Task task, long delivered) {
        UUID id = task.taskId();
        String reason = "given up after " + (delivered - 1) + " deliveries: the workers running it stopped "
                + "before finishing (crashed or killed)";
        try {
            UserTasks tasks = nats.userTasks(task.userId());
            Optional<TaskRecord> current = tasks.record(id);
            if (current.isPresent() && current.get().status().isFinal()) {
                message.ackSync(Duration.ofSeconds(5));
                log.info(
                        "task {} had ended {} already; its delivery {} acknowledged",
                        id,
                        current.get().status(),
                        delivered);
                return;
            }
            if (current.isPresent()
                    && current.get().status() == TaskStatus.EXECUTING
                    && current.get().workerId() != null
                    && nats.workers().isLive(current.get().workerId())) {
                message.nakWithDelay(nats.settings().ackWait());
                log.info(
                        "task {} delivered {} times, but worker {} runs it and is alive; handed back",
                        id,
                        delivered,
                        current.get().workerId());
                return;
            }
            if (current.map(TaskRecord::status).orElse(null) != TaskStatus.CANCELLED) {
                nats.results(id).write(Map.of("error.txt", (reason + "\n").getBytes(StandardCharsets.UTF_8)));
            }
            Optional<TaskRecord> ended = tasks.update(
                    id,
                    r -> r.status().isFinal()
                            ? r
                            : r.finished(
                                    TaskStatus.UNEXPECTED_ERROR, r.commit(), null, null, null, null, null, reason));
            TaskStatus status = ended.map(TaskRecord::status).orElse(TaskStatus.UNEXPECTED_ERROR);
            announceEnd(task, status);
            message.ackSync(Duration.ofSeconds(5));
            ended.ifPresent(metrics::deadLettered);
            log.warn("task {} {}: {}", id, status, reason);
        } catch (Exception e) {
            log.error("task {} could not be given up; it will be redelivered: {}", id, e.toString());
        }
    }

    /**
     * Stops taking tasks, lets the running ones finish within {@code grace}, then interrupts them:
     * their processes are killed and their messages handed back for redelivery.
     */
    @Override
    public void close() throws InterruptedException {
        close(Duration.ofSeconds(25));
    }

    public synchronized void close(Duration grace) throws InterruptedException {
        running = false;
        long deadline = System.nanoTime() + grace.toNanos();
        for (Thread t : loops) {
            t.join(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
        }
        // Interrupted again until they end: a step that swallows an interrupt (a library's I/O) must not let a
        // task run on past the grace.
        long stopBy = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        for (Thread t : loops) {
            while (t.isAlive() && System.nanoTime() < stopBy) {
                t.interrupt();
                t.join(200);
            }
        }
        heartbeats.shutdownNow();
        try {
            if (cancelSignals != null) {
                cancelSignals.close();
            }
        } catch (Exception e) {
            log.debug("cancel signals: {}", e.toString());
        }
        executor.awaitCleanup();
        try {
            nats.workers().leave(workerId);
        } catch (Exception e) {
            log.warn("could not deregister (the entry expires by itself): {}", e.toString());
        }
        log.info("worker stopped");
    }
}
