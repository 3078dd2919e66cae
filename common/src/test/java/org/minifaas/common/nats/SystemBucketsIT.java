package org.minifaas.common.nats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nats.client.api.StreamConfiguration;
import io.nats.client.api.StreamInfo;
import io.nats.client.support.NatsKeyValueUtil;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.minifaas.common.model.InjectionRequest;
import org.minifaas.common.model.TaskStatus;
import org.minifaas.common.testing.NatsInspect;
import org.minifaas.common.testing.NatsTestServer;
import org.minifaas.common.testing.Poll;

/** Observer bucket, worker registry, injection queue and the retention sweep on a real nats-server. */
class SystemBucketsIT {
    static final Duration RETENTION = Duration.ofSeconds(2);
    static NatsTestServer server;
    static NatsLayer layer;

    @BeforeAll
    static void start() throws Exception {
        server = NatsTestServer.start();
        layer = NatsLayer.connect(server.settings().withRetention(RETENTION), "test");
    }

    @AfterAll
    static void stop() throws Exception {
        layer.close();
        server.close();
    }

    @Test
    void observerLogsComeBackOldestFirst() throws Exception {
        ObserverStore store = layer.observer();
        store.log(2_000, "second");
        store.log(1_000, "first");
        store.log(2_000, "third");
        store.put(ObserverStore.STATUS, "OK");
        assertEquals(List.of("first", "second", "third"), store.logs());
        assertEquals("OK", store.get(ObserverStore.STATUS).orElseThrow());
        assertTrue(store.get("nothing").isEmpty());
    }

    @Test
    void liveWorkersAreCountedAndExpire() throws Exception {
        WorkerRegistry registry = layer.workers();
        long before = registry.live();
        registry.beat("a-1", "{}");
        registry.beat("b-2", "{}");
        registry.beat("a-1", "{}");
        assertEquals(before + 2, registry.live());
        registry.leave("b-2");
        assertEquals(before + 1, registry.live());
        registry.leave("a-1");
        assertEquals(before, registry.live());
    }

    @Test
    void injectedFilesTravelThroughTheQueue() throws Exception {
        InjectionQueue queue = layer.injections();
        queue.publish(new InjectionRequest("data.csv", "a,b\n".getBytes(StandardCharsets.UTF_8)));
        var message = queue.consumer().next(Duration.ofSeconds(5));
        InjectionRequest request = InjectionQueue.decode(message).orElseThrow();
        assertEquals("data.csv", request.fileName());
        layer.injectorBucket().store(request);
        message.ack();
        assertEquals(
                "a,b\n", new String(NatsInspect.injectedFile(layer, "data.csv").orElseThrow(), StandardCharsets.UTF_8));
        assertTrue(NatsInspect.injectedNames(layer).contains("data.csv"));
    }

    @Test
    void retentionSweepRemovesEmptiedTaskStreamsAndBucketsComeBack() throws Exception {
        StreamJanitor janitor = layer.janitor();
        long baseline = NatsInspect.countTaskStreams(layer);
        String user = "retained-" + UUID.randomUUID();
        UUID id = UUID.randomUUID();
        UserTasks tasks = layer.userTasks(user);
        tasks.createPending(id);
        layer.results(id).write(Map.of("stdout.txt", "x".getBytes(StandardCharsets.UTF_8)));
        assertEquals(baseline + 1, NatsInspect.countTaskStreams(layer), "the user's bucket; results share one store");
        assertEquals(0, janitor.sweep(Duration.ZERO), "streams holding data are kept");

        Poll.until(
                Duration.ofSeconds(15),
                () -> tasks.status(id).isEmpty()
                        && layer.results(id).read().map(Map::isEmpty).orElse(true),
                done -> done,
                "entries to expire");
        Poll.until(
                Duration.ofSeconds(15),
                () -> janitor.sweep(Duration.ZERO) >= 0 && NatsInspect.countTaskStreams(layer) == baseline,
                done -> done,
                "the emptied streams to be swept");
        assertTrue(layer.results(id).read().isEmpty());
        assertTrue(tasks.status(id).isEmpty());
        assertEquals(List.of(), tasks.taskIds());

        // the user comes back: the (cached) bucket is recreated on the first write
        UUID again = UUID.randomUUID();
        tasks.createPending(again);
        assertEquals(TaskStatus.PENDING, layer.userTasks(user).status(again).orElseThrow());
    }

    @Test
    void aTaskWrittenAfterTheSweepSawItsBucketEmptyIsKept() throws Exception {
        StreamJanitor janitor = layer.janitor();
        String user = "late-" + UUID.randomUUID();
        UserTasks tasks = layer.userTasks(user); // the bucket exists, empty: the sweep's listing says so
        String stream = NatsKeyValueUtil.toStreamName(BucketNames.forUser(user));
        UUID id = UUID.randomUUID();
        tasks.createPending(id); // the user's first task lands after that listing
        assertFalse(janitor.deleteIfStillEmpty(stream), "the bucket holds a task now");
        assertEquals(TaskStatus.PENDING, tasks.status(id).orElseThrow());
        UUID next = UUID.randomUUID();
        tasks.createPending(next); // and it takes writes again
        assertEquals(TaskStatus.PENDING, tasks.status(next).orElseThrow());
        assertFalse(janitor.deleteIfStillEmpty("KV_no-such-bucket"), "a stream gone meanwhile: nothing to do");
    }

    @Test
    void aBucketLeftFencedByAStoppedSweepIsGivenBackItsSubjects() throws Exception {
        String user = "fenced-" + UUID.randomUUID();
        UserTasks tasks = layer.userTasks(user);
        UUID id = UUID.randomUUID();
        tasks.createPending(id);
        String stream = NatsKeyValueUtil.toStreamName(BucketNames.forUser(user));
        StreamInfo info = layer.jsm().getStreamInfo(stream);
        layer.jsm()
                .updateStream(StreamConfiguration.builder(info.getConfiguration())
                        .subjects(StreamJanitor.fence(stream))
                        .build());
        assertThrows(IOException.class, () -> tasks.createPending(UUID.randomUUID()), "no write reaches it");
        layer.janitor().sweep(Duration.ZERO);
        assertEquals(TaskStatus.PENDING, tasks.status(id).orElseThrow(), "kept: it holds a task");
        UUID next = UUID.randomUUID();
        tasks.createPending(next);
        assertEquals(TaskStatus.PENDING, tasks.status(next).orElseThrow());
    }

    @Test
    void sweepsRacingFirstTasksNeverDeleteAnAcceptedOne() throws Exception {
        StreamJanitor janitor = layer.janitor();
        for (int round = 0; round < 60; round++) {
            UserTasks tasks = layer.userTasks("racing-" + round + "-" + UUID.randomUUID()); // empty, as a new user's
            UUID id = UUID.randomUUID();
            Thread sweeper = new Thread(() -> {
                try {
                    janitor.sweep(Duration.ZERO);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            sweeper.start();
            // as the frontend records a task: repeated within a budget when NATS has no stream for it for a moment
            Retries.<Void, QuotaExceededException>repeatable("record " + id, Retries.LEADER_CHANGE, () -> {
                tasks.createPending(id);
                return null;
            });
            sweeper.join();
            assertEquals(
                    TaskStatus.PENDING,
                    tasks.status(id).orElse(null),
                    "round " + round + ": a task accepted while the sweep ran was deleted with its bucket");
        }
    }
}
