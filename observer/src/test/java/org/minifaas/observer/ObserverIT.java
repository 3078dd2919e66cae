package org.minifaas.observer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nats.client.ConsumerContext;
import io.nats.client.Message;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.minifaas.common.model.Task;
import org.minifaas.common.nats.NatsLayer;
import org.minifaas.common.nats.ObserverStore;
import org.minifaas.common.testing.NatsInspect;
import org.minifaas.common.testing.NatsTestServer;
import org.minifaas.common.testing.Poll;

/** The observer against a real queue: a burst, one slow consumer, the drain, a restart. */
class ObserverIT {
    static final Duration WAIT = Duration.ofSeconds(60);
    static final WebhookSender.Settings NO_WEBHOOKS =
            new WebhookSender.Settings("", List.of(Duration.ofSeconds(1)), Duration.ofSeconds(1), false, 1);
    NatsTestServer server;
    NatsLayer nats;
    ObserverConfig config;
    List<Integer> scaled = new java.util.concurrent.CopyOnWriteArrayList<>(); // written by the observer thread

    @BeforeEach
    void start() throws Exception {
        server = NatsTestServer.start();
        nats = NatsLayer.connect(server.settings(), "observer-test");
        config = new ObserverConfig(
                server.settings(),
                Duration.ofMillis(1000),
                3,
                3,
                6,
                Duration.ofSeconds(60),
                Duration.ofSeconds(60),
                "none",
                NO_WEBHOOKS);
        nats.taskQueue().ensure();
    }

    @AfterEach
    void stop() throws Exception {
        nats.close();
        server.close();
    }

    void burst(int n) throws Exception {
        for (int i = 0; i < n; i++) {
            nats.taskQueue().publish(new Task(UUID.randomUUID(), "u", "https://example.com/f.git", List.of()));
        }
    }

    String state(String key) throws Exception {
        return nats.observer().get(key).orElse("");
    }

    /** One worker's worth of consumption: takes a task every {@code pace}, acknowledges it. */
    Thread slowConsumer(Duration pace, AtomicBoolean stop) {
        Thread t = new Thread(() -> {
            try {
                ConsumerContext consumer = nats.taskQueue().consumer();
                while (!stop.get()) {
                    Message m = consumer.next(Duration.ofSeconds(1));
                    if (m != null) {
                        Thread.sleep(pace.toMillis());
                        m.ack();
                    }
                }
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        t.start();
        return t;
    }

    @Test
    void burstCongestsAndTheDrainClearsIt() throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        try (Observer observer = new Observer(nats, config, scaled::add)) {
            observer.start();
            burst(30);
            Thread consumer = slowConsumer(Duration.ofMillis(250), stop);
            Poll.until(WAIT, () -> state(ObserverStore.STATUS), "congested"::equals, "congestion");
            assertTrue(Integer.parseInt(state(ObserverStore.WORKERS)) >= 4);
            // the decision is recorded first, then the scaler is called
            Poll.until(WAIT, () -> List.copyOf(scaled), s -> s.contains(4), "the scaler to be asked for 4 workers");

            Poll.until(WAIT, () -> state(ObserverStore.STATUS), "OK"::equals, "congestion to clear");
            Poll.until(WAIT, () -> state(ObserverStore.WORKERS), "3"::equals, "workers back to the minimum");
            stop.set(true);
            consumer.join();
        }
        List<String> logs = nats.observer().logs();
        assertTrue(logs.get(0).contains("getting busy"), logs.toString());
        assertTrue(logs.stream().anyMatch(l -> l.contains("congested: backlog")), logs.toString());
        assertTrue(logs.stream().anyMatch(l -> l.contains("congestion over")), logs.toString());
        assertTrue(logs.get(logs.size() - 1).contains("workers 4 -> 3"), logs.toString());
        assertEquals("30", state(ObserverStore.IN_MSGS));
        assertEquals("30", state(ObserverStore.OUT_MSGS));
    }

    @Test
    void observerSweepsTheStreamsRetentionEmptied() throws Exception {
        try (NatsLayer shortLived =
                NatsLayer.connect(server.settings().withRetention(Duration.ofSeconds(1)), "short")) {
            UUID id = UUID.randomUUID();
            shortLived.userTasks("sweep-" + id).createPending(id);
            assertEquals(1, NatsInspect.countTaskStreams(shortLived));
            ObserverConfig sweeping = new ObserverConfig(
                    shortLived.settings(),
                    Duration.ofSeconds(1),
                    3,
                    3,
                    6,
                    Duration.ofSeconds(1),
                    Duration.ZERO,
                    "none",
                    config.webhooks());
            try (Observer observer = new Observer(shortLived, sweeping, scaled::add)) {
                observer.start();
                Poll.until(
                        WAIT,
                        () -> NatsInspect.countTaskStreams(shortLived),
                        n -> n == 0,
                        "the expired user bucket to be deleted");
            }
        }
    }

    @Test
    void restartKeepsLogsAndWorkerCount() throws Exception {
        burst(20); // nobody consumes: congestion stays
        try (Observer first = new Observer(nats, config, scaled::add)) {
            first.start();
            Poll.until(WAIT, () -> state(ObserverStore.WORKERS), "4"::equals, "one more worker");
        }
        int logsBefore = nats.observer().logs().size();
        assertEquals("congested", state(ObserverStore.STATUS));

        try (Observer second = new Observer(nats, config, scaled::add)) {
            second.check();
            assertEquals("4", state(ObserverStore.WORKERS), "the restarted observer lost the worker count");
            assertEquals("congested", state(ObserverStore.STATUS));
            assertTrue(nats.observer().logs().size() >= logsBefore, "logs lost");
        }
    }
}
