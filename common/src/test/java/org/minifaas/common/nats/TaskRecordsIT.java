package org.minifaas.common.nats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.minifaas.common.model.Task;
import org.minifaas.common.model.TaskRecord;
import org.minifaas.common.model.TaskStatus;
import org.minifaas.common.testing.NatsTestServer;

/** Execution records, live logs, cancel signals and idempotency keys on a real nats-server. */
class TaskRecordsIT {
    static NatsTestServer server;
    static NatsLayer layer;

    @BeforeAll
    static void start() throws Exception {
        server = NatsTestServer.start();
        layer = NatsLayer.connect(server.settings(), "records-test");
        layer.taskQueue().ensure();
    }

    @AfterAll
    static void stop() throws Exception {
        layer.close();
        server.close();
    }

    private static Task task(String user) {
        return new Task(
                UUID.randomUUID(),
                user,
                "http://example.com/repo.git",
                List.of("a", "b"),
                "v1",
                5,
                "https://example.com/hook",
                TaskRecord.now());
    }

    @Test
    void aRecordRoundTripsWithEveryField() throws Exception {
        Task task = task("rec-" + UUID.randomUUID());
        UserTasks tasks = layer.userTasks(task.userId());
        tasks.createPending(TaskRecord.pending(task));
        tasks.update(task.taskId(), r -> r.started("w1", 1));
        tasks.update(task.taskId(), r -> r.finished(TaskStatus.FINISHED, "abc", 1L, 2L, 3L, 0, true, null));
        TaskRecord r = tasks.record(task.taskId()).orElseThrow();
        assertEquals(TaskStatus.FINISHED, r.status());
        assertEquals(300, r.code());
        assertEquals("v1", r.ref());
        assertEquals("abc", r.commit());
        assertEquals(List.of("a", "b"), r.parameters());
        assertEquals(5, r.timeoutSeconds());
        assertEquals("w1", r.workerId());
        assertEquals(1, r.attempts());
        assertNotNull(r.startedAt());
        assertNotNull(r.finishedAt());
        assertNotNull(r.queueMs());
        assertEquals(TaskRecord.DeliveryState.PENDING, r.callback().state());
        assertEquals(Optional.of(TaskStatus.FINISHED), tasks.status(task.taskId()));
    }

    @Test
    void recordsAreReadFromTheStreamLeaderAndAnOlderBucketIsBroughtToThat() throws Exception {
        // a direct get may be answered by a replica that lacks the latest write: on a cluster, a task just created
        // could read as unknown
        String user = "leader-" + UUID.randomUUID();
        String stream = io.nats.client.support.NatsKeyValueUtil.toStreamName(BucketNames.forUser(user));
        layer.userTasks(user);
        io.nats.client.JetStreamManagement jsm = layer.connection().jetStreamManagement();
        assertEquals(false, jsm.getStreamInfo(stream).getConfiguration().getAllowDirect());
        // a bucket made by an earlier version (direct gets on) is changed when next opened
        jsm.updateStream(io.nats.client.api.StreamConfiguration.builder(
                        jsm.getStreamInfo(stream).getConfiguration())
                .allowDirect(true)
                .build());
        UserTasks reopened = UserTasks.open(layer, BucketNames.forUser(user));
        assertEquals(false, jsm.getStreamInfo(stream).getConfiguration().getAllowDirect());
        UUID id = UUID.randomUUID();
        reopened.createPending(id);
        assertEquals(Optional.of(TaskStatus.PENDING), reopened.status(id));
    }

    @Test
    void aPlainStatusOfAnOlderVersionStillReads() throws Exception {
        UUID id = UUID.randomUUID();
        String user = "legacy-" + UUID.randomUUID();
        UserTasks tasks = layer.userTasks(user);
        layer.connection()
                .keyValue(BucketNames.forUser(user))
                .put(id.toString(), "FINISHED".getBytes(StandardCharsets.UTF_8));
        assertEquals(Optional.of(TaskStatus.FINISHED), tasks.status(id));
    }

    @Test
    void compareAndSetLetsOnlyOneOfTwoRacingChangesWin() throws Exception {
        Task task = task("cas-" + UUID.randomUUID());
        UserTasks tasks = layer.userTasks(task.userId());
        tasks.createPending(TaskRecord.pending(task));
        // 16 threads race to take the task from PENDING: exactly one may
        ExecutorService pool = Executors.newFixedThreadPool(16);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<String>> results = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            String me = "w" + i;
            results.add(pool.submit(() -> {
                go.await();
                TaskRecord after = tasks.update(
                                task.taskId(), r -> r.status() == TaskStatus.PENDING ? r.started(me, 1) : r)
                        .orElseThrow();
                return after.workerId();
            }));
        }
        go.countDown();
        Set<String> winners = new HashSet<>();
        for (Future<String> f : results) {
            winners.add(f.get(30, TimeUnit.SECONDS));
        }
        pool.shutdown();
        assertEquals(1, winners.size(), "every thread sees the one winner: " + winners);
        assertEquals(
                winners.iterator().next(),
                tasks.record(task.taskId()).orElseThrow().workerId());
    }

    @Test
    void anUpdateFromARecordReadEarlierNeverLosesAWriteMadeSince() throws Exception {
        Task task = task("known-" + UUID.randomUUID());
        UserTasks tasks = layer.userTasks(task.userId());
        tasks.createPending(TaskRecord.pending(task));
        tasks.update(task.taskId(), r -> r.started("w1", 1));
        UserTasks.Versioned read = tasks.versioned(task.taskId()).orElseThrow();
        // unchanged since it was read: written from it, and the change sees it
        TaskRecord finished = tasks.update(
                        task.taskId(),
                        read,
                        r -> r.status() == TaskStatus.EXECUTING
                                ? r.finished(TaskStatus.FINISHED, "abc", 1L, 2L, 3L, 0, true, null)
                                : r)
                .orElseThrow();
        assertEquals(TaskStatus.FINISHED, finished.status());
        // the same stale read again: the write in between (FINISHED) is read and the change decides on it
        List<TaskStatus> seen = new ArrayList<>();
        TaskRecord after = tasks.update(task.taskId(), read, r -> {
                    seen.add(r.status());
                    return r.status().isFinal() ? r : r.requeued();
                })
                .orElseThrow();
        assertEquals(List.of(TaskStatus.EXECUTING, TaskStatus.FINISHED), seen);
        assertEquals(TaskStatus.FINISHED, after.status());
        assertEquals(
                TaskStatus.FINISHED, tasks.record(task.taskId()).orElseThrow().status());
    }

    @Test
    void recordsListsEveryTaskOfTheUser() throws Exception {
        String user = "list-" + UUID.randomUUID();
        UserTasks tasks = layer.userTasks(user);
        Set<UUID> ids = new HashSet<>();
        for (int i = 0; i < 7; i++) {
            Task t = task(user);
            tasks.createPending(TaskRecord.pending(t));
            ids.add(t.taskId());
        }
        Set<UUID> listed = new HashSet<>();
        tasks.records().forEach(r -> listed.add(r.id()));
        assertEquals(ids, listed);
        assertEquals(List.of(), layer.userTasks("empty-" + UUID.randomUUID()).records());
    }

    @Test
    void logsReplayInOrderAndResumeAfterAnyEvent() throws Exception {
        UUID id = UUID.randomUUID();
        TaskLogs logs = layer.logs();
        logs.status(id, TaskStatus.EXECUTING, "running");
        for (int i = 0; i < 5; i++) {
            logs.output(id, TaskLogs.Kind.STDOUT, "line " + i).get(5, TimeUnit.SECONDS);
        }
        logs.end(id, TaskStatus.FINISHED);
        logs.end(id, TaskStatus.FINISHED); // a repeated end is dropped by the de-duplication ids
        List<TaskLogs.Event> all;
        try (TaskLogs.Reader r = logs.reader(id, 0)) {
            all = readAll(r);
        }
        assertEquals(8, all.size(), all.toString());
        assertEquals(TaskLogs.Kind.STATUS, all.get(0).kind());
        assertTrue(
                all.get(0).data().contains("\"phase\":\"running\""), all.get(0).data());
        assertEquals("line 0", all.get(1).data());
        assertEquals(TaskLogs.Kind.END, all.get(7).kind());
        List<TaskLogs.Event> rest;
        try (TaskLogs.Reader r = logs.reader(id, all.get(3).sequence())) {
            rest = readAll(r);
        }
        assertEquals(all.subList(4, 8), rest);
    }

    private static List<TaskLogs.Event> readAll(TaskLogs.Reader reader) throws Exception {
        List<TaskLogs.Event> out = new ArrayList<>();
        TaskLogs.Event e;
        while ((e = reader.next(Duration.ofMillis(500))) != null) {
            out.add(e);
        }
        return out;
    }

    @Test
    void webhookJobsWaitingOutTheirRetriesNeverHoldBackNewOnes() throws Exception {
        layer.webhooks().ensure();
        // unacknowledged jobs (waiting for a delayed retry) are not capped: JetStream's default 1000 would let a
        // flood of failing callbacks stop every other user's deliveries
        assertEquals(
                WebhookQueue.MAX_ACK_PENDING,
                layer.jsm()
                        .getConsumerInfo(WebhookQueue.STREAM, WebhookQueue.CONSUMER)
                        .getConsumerConfiguration()
                        .getMaxAckPending());
        assertEquals(
                1000,
                layer.jsm()
                        .getConsumerInfo(TaskQueue.STREAM, TaskQueue.CONSUMER)
                        .getConsumerConfiguration()
                        .getMaxAckPending(),
                "tasks keep the default");
    }

    @Test
    void aCancelSignalReachesTheListener() throws Exception {
        LinkedBlockingQueue<UUID> got = new LinkedBlockingQueue<>();
        UUID id = UUID.randomUUID();
        try (AutoCloseable ignored = layer.cancels().listen(got::add)) {
            layer.connection().flush(Duration.ofSeconds(2));
            layer.cancels().send(id);
            assertEquals(id, got.poll(5, TimeUnit.SECONDS));
        }
    }

    @Test
    void anIdempotencyKeyIsClaimedOnceAmongConcurrentRetriesAndCanBeReleased() throws Exception {
        String user = "idem-" + UUID.randomUUID();
        ExecutorService pool = Executors.newFixedThreadPool(20);
        List<Future<UUID>> results = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            results.add(pool.submit(() -> {
                UUID mine = UUID.randomUUID();
                return layer.idempotency().claim(user, "key-1", mine).orElse(mine);
            }));
        }
        Set<UUID> winners = new HashSet<>();
        for (Future<UUID> f : results) {
            winners.add(f.get(30, TimeUnit.SECONDS));
        }
        pool.shutdown();
        assertEquals(1, winners.size());
        assertTrue(
                layer.idempotency()
                        .claim("other-" + user, "key-1", UUID.randomUUID())
                        .isEmpty(),
                "keys are per user");
        layer.idempotency().release(user, "key-1");
        assertNull(layer.idempotency().claim(user, "key-1", UUID.randomUUID()).orElse(null), "free again");
    }
}
