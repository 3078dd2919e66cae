package org.minifaas.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.minifaas.worker.Fixture.awaitStatus;
import static org.minifaas.worker.Fixture.record;
import static org.minifaas.worker.Fixture.results;
import static org.minifaas.worker.Fixture.submit;
import static org.minifaas.worker.Fixture.task;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.minifaas.common.model.Task;
import org.minifaas.common.model.TaskRecord;
import org.minifaas.common.model.TaskStatus;
import org.minifaas.common.nats.TaskLogs;
import org.minifaas.common.nats.WebhookQueue;
import org.minifaas.common.testing.NatsInspect;
import org.minifaas.common.testing.Poll;
import org.minifaas.worker.sandbox.Cancellation;

/** Cancelling tasks as the frontend does (record CANCELLED, then a signal): real NATS, Git, go and sandbox. */
class CancelIT {
    static final Duration WAIT = Duration.ofSeconds(90);
    /** Progress signals every second: the record is read as often (the fallback for a lost signal). */
    static final Duration ACK_WAIT = Duration.ofSeconds(3);

    static RunningWorker stack;

    @BeforeAll
    static void start() throws Exception {
        stack = RunningWorker.start("cancel-test", Duration.ofSeconds(120), 2, s -> s.withAckWait(ACK_WAIT));
    }

    @AfterAll
    static void stop() throws Exception {
        stack.close();
    }

    @AfterEach
    void noTaskDirectoryIsLeft() throws Exception {
        stack.assertNoTaskDirectoryLeft();
    }

    /** A task whose function sleeps a minute beside a child `sleep <marker>`, running now. */
    static UUID runningTask(String marker, String callbackUrl) throws Exception {
        String url = stack.git.createRepo("sleeper-" + UUID.randomUUID(), Functions.SLOW_WITH_CHILD);
        Task t = task(url, null, 0, "60", marker);
        UUID id = submit(
                stack.nats,
                new Task(t.taskId(), t.userId(), t.repoUrl(), t.parameters(), null, 0, callbackUrl, t.createdAt()));
        awaitStatus(stack.nats, id, TaskStatus.EXECUTING, WAIT);
        Poll.until(
                WAIT,
                () -> WorkerIT.hostProcessesWith(marker).size(),
                n -> n >= 2,
                "the function and its child to run");
        return id;
    }

    static String marker() {
        return Long.toString(200_000 + (long) (Math.random() * 90_000));
    }

    /** What the frontend does first: the record says CANCELLED. */
    static void cancelRecord(UUID id) throws Exception {
        stack.nats.userTasks(Fixture.USER).update(id, r -> r.cancelled("cancelled by its owner"));
    }

    static void awaitAcknowledged() throws Exception {
        Poll.until(
                WAIT,
                () -> NatsInspect.taskStream(stack.nats).getStreamState().getMsgCount(),
                n -> n == 0,
                "the queue message to be acknowledged");
    }

    static List<TaskLogs.Event> log(UUID id) throws Exception {
        List<TaskLogs.Event> events = new ArrayList<>();
        try (TaskLogs.Reader reader = stack.nats.logs().reader(id, 0)) {
            TaskLogs.Event e;
            while ((e = reader.next(Duration.ofMillis(500))) != null) {
                events.add(e);
            }
        }
        return events;
    }

    @Test
    void aRunningTaskIsKilledWithItsChildrenAndStaysCancelled() throws Exception {
        String marker = marker();
        UUID id = runningTask(marker, "http://127.0.0.1:9/hook");
        cancelRecord(id);
        long start = System.nanoTime();
        stack.nats.cancels().send(id);
        Poll.until(
                Duration.ofSeconds(2),
                () -> WorkerIT.hostProcessesWith(marker),
                List::isEmpty,
                "the function and its child to be killed");
        long killedMs = (System.nanoTime() - start) / 1_000_000;
        assertTrue(killedMs < 1_500, "killed after " + killedMs + " ms");

        awaitAcknowledged();
        TaskRecord r = record(stack.nats, id);
        assertEquals(TaskStatus.CANCELLED, r.status());
        assertEquals("cancelled by its owner", r.error(), "the owner's reason stands");
        assertNotNull(r.commit(), "what the run found out is kept: " + r);
        assertNotNull(r.cloneMs(), r::toString);
        assertNull(r.exitCode(), "killed: no exit code of its own");
        Map<String, String> files = results(stack.nats, id);
        assertTrue(
                files.get("error.txt").startsWith("cancelled by its owner while running\nruntime: go1."),
                files.get("error.txt"));
        assertFalse(files.get("stdout.txt").contains("done"));
        List<TaskLogs.Event> events = log(id);
        TaskLogs.Event end = events.get(events.size() - 1);
        assertEquals(TaskLogs.Kind.END, end.kind());
        assertTrue(end.data().contains("\"status\":\"CANCELLED\""), end::toString);
        stack.nats.webhooks().ensure();
        assertEquals(
                1,
                stack.nats
                        .connection()
                        .jetStreamManagement()
                        .getStreamInfo(WebhookQueue.STREAM)
                        .getStreamState()
                        .getMsgCount(),
                "the callback is queued once the task has ended");
    }

    @Test
    void aLostSignalIsMadeUpForByTheRecord() throws Exception {
        String marker = marker();
        UUID id = runningTask(marker, null);
        cancelRecord(id); // and no signal
        Poll.until(
                ACK_WAIT.plusSeconds(2),
                () -> WorkerIT.hostProcessesWith(marker),
                List::isEmpty,
                "the function to be killed at the next progress signal");
        awaitAcknowledged();
        assertEquals(TaskStatus.CANCELLED, record(stack.nats, id).status());
        assertTrue(results(stack.nats, id)
                .get("error.txt")
                .startsWith("cancelled by its owner while running\nruntime: go1."));
    }

    @Test
    void aTaskCancelledWhileQueuedNeverRuns() throws Exception {
        String url = stack.git.createRepo("queued-" + UUID.randomUUID(), Functions.ECHO);
        Task t = task(url, null, 0, "never");
        stack.nats.userTasks(Fixture.USER).createPending(TaskRecord.pending(t));
        cancelRecord(t.taskId());
        stack.nats.taskQueue().publish(t);
        awaitAcknowledged();

        TaskRecord r = record(stack.nats, t.taskId());
        assertEquals(TaskStatus.CANCELLED, r.status());
        assertNull(r.startedAt());
        assertNull(r.workerId());
        assertEquals(0, r.attempts());
        assertFalse(stack.nats.results(t.taskId()).exists(), "it produced results");
        assertEquals(List.of(), log(t.taskId()), "it published a live log");
    }

    @Test
    void aCancelledTaskRunsNoFurtherStep() throws Exception {
        String url = stack.git.createRepo("never-" + UUID.randomUUID(), Functions.ECHO);
        Cancellation cancelled = new Cancellation();
        cancelled.cancel();
        List<String> phases = new ArrayList<>();
        Execution e = stack.executor.execute(task(url, null, 0), phases::add, cancelled);
        assertEquals(TaskStatus.CANCELLED, e.status());
        assertEquals("cancelled by its owner while running", e.reason());
        assertEquals(List.of("cloning"), phases, "no build or run after a cancelled clone");
        assertNull(e.commit());
        assertNull(e.runMs());
    }
}
