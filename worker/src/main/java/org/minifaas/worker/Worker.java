package org.minifaas.worker;

import io.nats.client.JetStreamApiException;
import io.nats.client.Message;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.minifaas.common.Threads;
import org.minifaas.common.model.Task;
import org.minifaas.common.model.TaskStatus;
import org.minifaas.common.nats.NatsLayer;
import org.minifaas.common.nats.ResultStore;
import org.minifaas.common.nats.TaskQueue;
import org.minifaas.common.nats.UserTasks;
import org.minifaas.common.nats.WorkerRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes tasks from the shared durable queue, {@code concurrency} at a time, and runs them. A message
 * is acknowledged only after the task's results and final status are stored; while a task runs, an
 * in-progress signal keeps its message from being redelivered. A message delivered more often than
 * TASK_MAX_DELIVERIES (its workers died) is given up: UNEXPECTED_ERROR, then acknowledged.
 */
public final class Worker implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Worker.class);

    private final NatsLayer nats;
    private final TaskExecutor executor;
    private final int concurrency;
    /** False with SANDBOX=off: every heartbeat says so, and /getSystemStatus warns the admins. */
    private final boolean sandboxed;
    /** How long a finished task's results and status are retried while NATS is unreachable. */
    private final Duration persistFor;
    private final List<Thread> loops = new ArrayList<>();
    private final ScheduledExecutorService heartbeats = Executors.newSingleThreadScheduledExecutor(Threads.daemon("ack-heartbeat"));
    private final String workerId = WorkerRegistry.processId(System.getenv("HOSTNAME"));
    private final AtomicInteger busy = new AtomicInteger();
    /** Tasks running in this process: a redelivery of one of them (its progress signals were lost) is not run again. */
    private final Set<UUID> runningHere = ConcurrentHashMap.newKeySet();
    private volatile boolean running;

    /** {@code concurrency} slots sharing one executor; every task runs in a sandbox of its own. */
    public Worker(NatsLayer nats, TaskExecutor executor, int concurrency) {
        this(nats, executor, concurrency, true);
    }

    public Worker(NatsLayer nats, TaskExecutor executor, int concurrency, boolean sandboxed) {
        this.nats = nats;
        this.executor = executor;
        this.concurrency = concurrency;
        this.sandboxed = sandboxed;
        Duration twiceAckWait = nats.settings().ackWait().multipliedBy(2);
        this.persistFor = twiceAckWait.compareTo(Duration.ofMinutes(2)) > 0 ? twiceAckWait : Duration.ofMinutes(2);
    }

    public synchronized void start() throws IOException, JetStreamApiException {
        nats.taskQueue().ensure();
        running = true;
        for (int i = 0; i < concurrency; i++) {
            Thread t = new Thread(this::loop, "worker-" + i);
            loops.add(t);
            t.start();
        }
        heartbeats.scheduleAtFixedRate(this::beat, 0, WorkerRegistry.HEARTBEAT.toMillis(), TimeUnit.MILLISECONDS);
        log.info("worker {} started: {} task(s) at a time", workerId, concurrency);
    }

    /** Tells the system this worker is alive (the registry counts live workers). */
    private void beat() {
        try {
            nats.workers().beat(workerId, "{\"concurrency\":" + concurrency + ",\"busy\":" + busy.get()
                    + ",\"sandbox\":" + (sandboxed ? "\"on\"" : "\"" + WorkerRegistry.SANDBOX_OFF + "\"") + "}");
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
        if (delivered > nats.settings().maxDeliveries()) {
            giveUp(message, task, delivered);
            return;
        }
        if (!runningHere.add(task.taskId())) {
            // JetStream redelivered it while this process still runs it (say, NATS came back after an outage that
            // ate the progress signals): the running execution acknowledges the message when it ends
            message.inProgress();
            log.info("task {} redelivered (delivery {}) while running here; left to the running execution",
                    task.taskId(), delivered);
            return;
        }
        try {
            execute(message, task, delivered);
        } finally {
            runningHere.remove(task.taskId());
        }
    }

    private void execute(Message message, Task task, long delivered) throws InterruptedException {
        long ackEveryMs = Math.max(500, nats.settings().ackWait().toMillis() / 3);
        ScheduledFuture<?> heartbeat = heartbeats.scheduleAtFixedRate(message::inProgress,
                ackEveryMs, ackEveryMs, TimeUnit.MILLISECONDS);
        try {
            UserTasks status = nats.userTasks(task.userId());
            if (status.status(task.taskId()).map(TaskStatus::isFinal).orElse(false)) {
                if (nats.results(task.taskId()).exists()) {
                    // finished before, but its acknowledgement was lost: never run a task twice
                    heartbeat.cancel(false);
                    message.ackSync(Duration.ofSeconds(5));
                    log.info("task {} already finished; acknowledged again", task.taskId());
                    return;
                }
                log.warn("task {} is final but has no results; running it again", task.taskId());
            }
            status.setStatus(task.taskId(), TaskStatus.EXECUTING);
            log.info("task {} started (delivery {})", task.taskId(), delivered);
            Execution execution = executor.execute(task);
            if (status.status(task.taskId()).map(TaskStatus::isFinal).orElse(false)
                    && nats.results(task.taskId()).exists()) {
                // another worker ran a redelivery of it to the end first: its outcome stands, never overwritten
                heartbeat.cancel(false);
                message.ackSync(Duration.ofSeconds(5));
                log.info("task {} was finished meanwhile by another delivery; this outcome ({}) dropped",
                        task.taskId(), execution.reason());
                return;
            }
            // results first, then the final status: a task is never final without its results
            TaskStatus finalStatus = persistently("store the results of task " + task.taskId(),
                    () -> store(task, execution));
            persistently("record task " + task.taskId() + " as " + finalStatus, () -> {
                status.setStatus(task.taskId(), finalStatus);
                return finalStatus;
            });
            heartbeat.cancel(false);
            message.ackSync(Duration.ofSeconds(5));
            log.info("task {} {}: {}", task.taskId(), finalStatus, execution.reason());
        } catch (InterruptedException e) {
            // shutting down mid-task: hand it back for another worker. The interrupt is cleared for these last
            // NATS calls (an interrupted thread's requests fail at once), and set again after.
            Thread.interrupted();
            heartbeat.cancel(false);
            try {
                nats.userTasks(task.userId()).setStatus(task.taskId(), TaskStatus.PENDING);
            } catch (IOException | JetStreamApiException | RuntimeException ignored) {
                // the next worker sets EXECUTING anyway
            }
            message.nak();
            try {
                nats.connection().flush(Duration.ofSeconds(2)); // the process may exit right after this
            } catch (Exception ignored) {
                // unacknowledged, it is redelivered after the ack wait anyway
            }
            log.info("task {} handed back", task.taskId());
            throw e;
        } catch (Exception e) {
            // NATS failed while recording: leave the message unacknowledged, it is redelivered
            heartbeat.cancel(false);
            log.error("task {} could not be recorded; it will be redelivered: {}", task.taskId(), e.toString());
        } finally {
            heartbeat.cancel(false);
        }
    }

    /**
     * Stores the result files. Results over MAX_RESULT_BYTES turn the task into UNEXPECTED_ERROR with the reason
     * stored instead; a NATS failure is thrown, for {@link #persistently} to retry.
     */
    private TaskStatus store(Task task, Execution execution) throws Exception {
        ResultStore results = nats.results(task.taskId());
        try {
            results.write(execution.files());
            return execution.status();
        } catch (ResultStore.ResultTooLargeException e) {
            log.error("task {}: results could not be stored: {}", task.taskId(), e.getMessage());
            results.write(Map.of("error.txt", ("results could not be stored: " + e.getMessage() + "\n")
                    .getBytes(StandardCharsets.UTF_8)));
            return TaskStatus.UNEXPECTED_ERROR;
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

    private void giveUp(Message message, Task task, long delivered) {
        String reason = "given up after " + (delivered - 1) + " deliveries: the workers running it stopped "
                + "before finishing (crashed or killed)";
        try {
            nats.results(task.taskId()).write(Map.of("error.txt", (reason + "\n").getBytes(StandardCharsets.UTF_8)));
            nats.userTasks(task.userId()).setStatus(task.taskId(), TaskStatus.UNEXPECTED_ERROR);
            message.ackSync(Duration.ofSeconds(5));
            log.warn("task {} UNEXPECTED_ERROR: {}", task.taskId(), reason);
        } catch (Exception e) {
            log.error("task {} could not be given up; it will be redelivered: {}", task.taskId(), e.toString());
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
        executor.awaitCleanup();
        try {
            nats.workers().leave(workerId);
        } catch (Exception e) {
            log.warn("could not deregister (the entry expires by itself): {}", e.toString());
        }
        log.info("worker stopped");
    }
}
