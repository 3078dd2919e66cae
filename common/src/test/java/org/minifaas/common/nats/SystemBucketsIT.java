package org.minifaas.common.nats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nats.client.api.StreamConfiguration;
import io.nats.client.api.StreamInfo;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.minifaas.common.model.InjectionRequest;
import org.minifaas.common.model.TaskRecord;
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
        assertEquals(0, janitor.sweep(Duration.ZERO, Duration.ofMillis(50)), "streams holding data are kept");

        Poll.until(
                Duration.ofSeconds(15),
                () -> tasks.status(id).isEmpty()
                        && layer.results(id).read().map(Map::isEmpty).orElse(true),
                done -> done,
                "entries to expire");
        Poll.until(
                Duration.ofSeconds(15),
                () -> janitor.sweep(Duration.ZERO, Duration.ofMillis(50)) >= 0
                        && NatsInspect.countTaskStreams(layer) == baseline,
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

    /** A retention sweep (no idle margin) on a thread of its own; {@link #failure} once joined. */
    record Sweep(Thread thread, AtomicReference<Exception> failed) {
        static Sweep start(NatsLayer nats, Duration settle) {
            AtomicReference<Exception> failed = new AtomicReference<>();
            Thread thread = new Thread(() -> {
                try {
                    nats.janitor().sweep(Duration.ZERO, settle);
                } catch (Exception e) {
                    failed.set(e);
                }
            });
            thread.start();
            return new Sweep(thread, failed);
        }

        void join() throws InterruptedException {
            thread.join();
        }

        Exception failure() {
            return failed.get();
        }
    }

    /** Records a task as the frontend does: asked again while NATS has no stream for it, within a budget. */
    static void recordAsTheFrontendDoes(UserTasks tasks, UUID id) throws Exception {
        Retries.<Void, QuotaExceededException>repeatable("record " + id, Retries.LEADER_CHANGE, () -> {
            tasks.createPending(id);
            return null;
        });
    }

    /** For the sweep's races: a retention long enough that no record expires while a test looks at it. */
    static NatsLayer longLived() throws Exception {
        return NatsLayer.connect(server.settings().withRetention(Duration.ofMinutes(10)), "sweep-test");
    }

    @Test
    void aTaskWrittenWhileItsBucketIsFencedIsKept() throws Exception {
        NatsLayer nats = longLived();
        try {
            UserTasks tasks = nats.userTasks("fenced-write-" + UUID.randomUUID()); // empty: a candidate
            String stream = tasks.streamName();
            Sweep sweeper = Sweep.start(nats, Duration.ofSeconds(2));
            Poll.until(
                    Duration.ofSeconds(10),
                    () -> StreamJanitor.isFenced(nats.jsm().getStreamInfo(stream)),
                    fenced -> fenced,
                    "the bucket to be fenced");
            assertThrows(IOException.class, () -> tasks.createPending(UUID.randomUUID()), "no write reaches it");
            UUID id = UUID.randomUUID();
            recordAsTheFrontendDoes(tasks, id);
            sweeper.join();
            assertNull(sweeper.failure());
            assertEquals(TaskStatus.PENDING, tasks.status(id).orElse(null), "accepted, so kept");
        } finally {
            nats.close();
        }
    }

    @Test
    void aBucketLeftFencedByAStoppedSweepIsGivenBackItsSubjects() throws Exception {
        NatsLayer nats = longLived();
        try {
            UserTasks tasks = nats.userTasks("fenced-" + UUID.randomUUID());
            UUID id = UUID.randomUUID();
            tasks.createPending(id);
            String stream = tasks.streamName();
            StreamInfo info = nats.jsm().getStreamInfo(stream);
            nats.jsm()
                    .updateStream(StreamConfiguration.builder(info.getConfiguration())
                            .subjects(StreamJanitor.fence(stream))
                            .build());
            assertThrows(IOException.class, () -> tasks.createPending(UUID.randomUUID()), "no write reaches it");
            assertEquals(
                    List.of(id),
                    tasks.records().stream().map(TaskRecord::id).toList(),
                    "listed while fenced (no consumer can be made on it then)");
            assertEquals(TaskStatus.PENDING, tasks.status(id).orElseThrow(), "read while fenced");
            nats.janitor().sweep(Duration.ZERO, Duration.ofMillis(50));
            assertEquals(TaskStatus.PENDING, tasks.status(id).orElseThrow(), "kept: it holds a task");
            UUID next = UUID.randomUUID();
            tasks.createPending(next);
            assertEquals(TaskStatus.PENDING, tasks.status(next).orElseThrow());
        } finally {
            nats.close();
        }
    }

    @Test
    void sweepsRacingFirstTasksNeverDeleteAnAcceptedOne() throws Exception {
        NatsLayer nats = longLived();
        try {
            for (int round = 0; round < 30; round++) {
                UserTasks tasks = nats.userTasks("racing-" + round + "-" + UUID.randomUUID()); // empty: a new user's
                UUID id = UUID.randomUUID();
                Sweep sweeper = Sweep.start(nats, Duration.ofMillis(50));
                recordAsTheFrontendDoes(tasks, id);
                sweeper.join();
                assertNull(sweeper.failure(), () -> "round " + sweeper.failure());
                assertEquals(
                        TaskStatus.PENDING,
                        tasks.status(id).orElse(null),
                        "round " + round + ": a task accepted while the sweep ran was deleted with its bucket");
            }
        } finally {
            nats.close();
        }
    }
}
