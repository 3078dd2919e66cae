package org.minifaas.common.nats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nats.client.support.NatsKeyValueUtil;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.minifaas.common.model.Task;
import org.minifaas.common.model.TaskStatus;
import org.minifaas.common.testing.NatsInspect;
import org.minifaas.common.testing.NatsTestServer;
import org.minifaas.common.testing.Poll;

/** The JetStream layer against a real nats-server. */
class NatsLayerIT {
    static NatsTestServer server;
    static NatsLayer layer;

    @BeforeAll
    static void start() throws Exception {
        server = NatsTestServer.start();
        layer = NatsLayer.connect(server.settings().withMaxActiveTasks(10), "test");
    }

    @AfterAll
    static void stop() throws Exception {
        layer.close();
        server.close();
    }

    @Test
    void quotaIsExactUnderConcurrency() throws Exception {
        UserTasks tasks = layer.userTasks("racer-" + UUID.randomUUID());
        ExecutorService pool = Executors.newFixedThreadPool(16);
        List<Future<Boolean>> results = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            Callable<Boolean> create = () -> {
                try {
                    tasks.createPending(UUID.randomUUID());
                    return true;
                } catch (QuotaExceededException e) {
                    return false;
                }
            };
            results.add(pool.submit(create));
        }
        int accepted = 0;
        for (Future<Boolean> f : results) {
            accepted += f.get() ? 1 : 0;
        }
        pool.shutdown();
        assertEquals(10, accepted);
        assertEquals(10, tasks.taskIds().size());
    }

    @Test
    void statusUpdatesStillWorkAtTheQuota() throws Exception {
        UserTasks tasks = layer.userTasks("full-" + UUID.randomUUID());
        List<UUID> ids = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            UUID id = UUID.randomUUID();
            tasks.createPending(id);
            ids.add(id);
        }
        assertThrows(QuotaExceededException.class, () -> tasks.createPending(UUID.randomUUID()));
        tasks.setStatus(ids.get(0), TaskStatus.FINISHED);
        assertEquals(TaskStatus.FINISHED, tasks.status(ids.get(0)).orElseThrow());
    }

    @Test
    void forgettingATaskFreesItsSlot() throws Exception {
        UserTasks tasks = layer.userTasks("forget-" + UUID.randomUUID());
        UUID first = UUID.randomUUID();
        tasks.createPending(first);
        for (int i = 1; i < 10; i++) {
            tasks.createPending(UUID.randomUUID());
        }
        tasks.forget(first);
        assertTrue(tasks.status(first).isEmpty());
        tasks.createPending(UUID.randomUUID()); // would throw if the purge left a marker
    }

    @Test
    void emailsAndSystemNamesAreValidUserIds() throws Exception {
        UUID id = UUID.randomUUID();
        layer.userTasks("Someone.Else+tag@example.com").createPending(id);
        assertEquals(
                TaskStatus.PENDING,
                layer.existingUserTasks("Someone.Else+tag@example.com")
                        .orElseThrow()
                        .status(id)
                        .orElseThrow());

        // a user called like the observer bucket gets a bucket of its own
        UUID other = UUID.randomUUID();
        layer.userTasks(BucketNames.OBSERVER_BUCKET).createPending(other);
        assertTrue(layer.streams()
                .streamInfo(NatsKeyValueUtil.toStreamName(BucketNames.OBSERVER_BUCKET))
                .isEmpty());
        assertEquals(
                List.of(other.toString()),
                layer.userTasks(BucketNames.OBSERVER_BUCKET).taskIds());
    }

    @Test
    void unknownUsersHaveNoBucketAndNoneIsCreatedForReads() throws Exception {
        String user = "ghost-" + UUID.randomUUID();
        assertTrue(layer.existingUserTasks(user).isEmpty());
        assertTrue(layer.streams()
                .streamInfo(NatsKeyValueUtil.toStreamName(BucketNames.forUser(user)))
                .isEmpty());
    }

    @Test
    void tasksStayInTheQueueUntilAWorkerTakesThem() throws Exception {
        TaskQueue queue = layer.taskQueue();
        queue.ensure();
        long before = NatsInspect.taskStream(layer).getStreamState().getMsgCount();
        Task task = new Task(UUID.randomUUID(), "u", "https://example.com/r.git", List.of("a", "b c"));
        queue.publish(task);
        queue.publish(task); // same id: de-duplicated
        assertEquals(before + 1, NatsInspect.taskStream(layer).getStreamState().getMsgCount());
        assertEquals(before + 1, NatsInspect.backlog(layer));

        var message = queue.consumer().next(Duration.ofSeconds(5));
        assertEquals(task, TaskQueue.decode(message));
        message.ack();
        Poll.until(
                Duration.ofSeconds(5),
                () -> NatsInspect.taskStream(layer).getStreamState().getMsgCount(),
                n -> n == before,
                "the acked task to leave the work queue");
    }

    @Test
    void resultsRoundTripAndAreCapped() throws Exception {
        UUID id = UUID.randomUUID();
        ResultStore store = layer.results(id);
        assertTrue(store.read().isEmpty());
        store.write(Map.of("stdout.txt", "hello\n".getBytes(StandardCharsets.UTF_8), "stderr.txt", new byte[0]));
        Map<String, byte[]> files = store.read().orElseThrow();
        assertEquals("hello\n", new String(files.get("stdout.txt"), StandardCharsets.UTF_8));
        assertEquals(0, files.get("stderr.txt").length);

        NatsLayer small = NatsLayer.connect(server.settings().withMaxResultBytes(8192), "small");
        try {
            assertThrows(
                    ResultStore.ResultTooLargeException.class,
                    () -> small.results(UUID.randomUUID()).write(Map.of("stdout.txt", new byte[64 * 1024])));
        } finally {
            small.close();
        }
    }
}
