package org.minifaas.observer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.minifaas.common.model.Task;
import org.minifaas.common.model.TaskRecord;
import org.minifaas.common.nats.NatsLayer;
import org.minifaas.common.nats.WebhookQueue;
import org.minifaas.common.ops.OpsRegistry;
import org.minifaas.common.ops.OpsServer;
import org.minifaas.common.ops.OpsSettings;
import org.minifaas.common.ops.Readiness;
import org.minifaas.common.testing.NatsTestServer;
import org.minifaas.common.testing.Poll;
import org.minifaas.common.testing.Scrape;

/** The observer's ops server, started as its main starts it, on a real nats-server: gauges, webhooks, health. */
class ObserverOpsIT {
    static final Duration WAIT = Duration.ofSeconds(30);
    NatsTestServer server;
    NatsLayer nats;
    PrometheusMeterRegistry registry;
    Readiness readiness;
    OpsServer ops;

    @BeforeEach
    void start() throws Exception {
        server = NatsTestServer.start();
        nats = NatsLayer.connect(server.settings(), "observer-ops-test");
        registry = OpsRegistry.create("observer");
        readiness = new Readiness();
        ops = OpsServer.start(new OpsSettings("127.0.0.1", -1), registry, readiness, nats::isConnected)
                .orElseThrow();
    }

    @AfterEach
    void stop() throws Exception {
        ops.close();
        registry.close();
        nats.close();
        server.close();
    }

    double metric(String name, String... labels) throws Exception {
        return Scrape.sum(ops.port(), name, labels);
    }

    @Test
    void backlogLiveWorkersAndWebhookOutcomesAreScrapedAndHealthFollowsNats() throws Exception {
        assertEquals(
                "{\"status\":\"starting\"}", Scrape.get(ops.port(), "/healthz").body());
        ObserverMetrics metrics = new ObserverMetrics(registry);
        ObserverConfig config = new ObserverConfig(
                server.settings(),
                Duration.ofMillis(200),
                10,
                3,
                6,
                Duration.ofSeconds(60),
                Duration.ofSeconds(60),
                "none",
                ObserverIT.NO_WEBHOOKS);
        try (Observer observer = new Observer(nats, config, Scaler.NONE, metrics);
                WebhookSender webhooks = new WebhookSender(nats, config.webhooks(), metrics)) {
            nats.taskQueue().ensure();
            for (int i = 0; i < 3; i++) {
                nats.taskQueue().publish(new Task(UUID.randomUUID(), "u", "https://example.com/f.git", List.of()));
            }
            nats.workers().beat("worker-a", "{}");
            nats.workers().beat("worker-b", "{}");
            // a finished task whose callback cannot be signed (no WEBHOOK_SECRET): given up at once
            UUID hooked = UUID.randomUUID();
            nats.userTasks("u")
                    .createPending(TaskRecord.pending(new Task(
                            hooked,
                            "u",
                            "https://example.com/f.git",
                            List.of(),
                            null,
                            0,
                            "https://example.com/hook",
                            null)));
            nats.webhooks().publish(new WebhookQueue.Job(hooked, "u"));

            observer.start();
            webhooks.start();
            readiness.markReady();

            Poll.until(WAIT, () -> metric("minifaas_queue_backlog", "service=observer"), v -> v == 3, "backlog 3");
            Poll.until(WAIT, () -> metric("minifaas_workers_live"), v -> v == 2, "2 live workers");
            Poll.until(
                    WAIT,
                    () -> metric("minifaas_webhook_deliveries_total", "outcome=failed"),
                    v -> v == 1,
                    "the webhook given up");
            assertEquals(0, metric("minifaas_webhook_deliveries_total", "outcome=delivered"));
            assertEquals(0, metric("minifaas_webhook_deliveries_total", "outcome=retried"));
            assertTrue(metric("jvm_threads_live_threads", "service=observer") > 0);

            HttpResponse<String> ok = Scrape.get(ops.port(), "/healthz");
            assertEquals(200, ok.statusCode());
            assertEquals("{\"status\":\"ok\"}", ok.body());

            server.kill();
            HttpResponse<String> down = Poll.until(
                    WAIT,
                    () -> Scrape.get(ops.port(), "/healthz"),
                    r -> r.statusCode() == 503,
                    "health to say NATS is gone");
            assertEquals("{\"status\":\"nats-disconnected\"}", down.body());
            assertEquals(200, Scrape.get(ops.port(), "/metrics").statusCode(), "metrics need no NATS");
            server.restart();
            Poll.until(WAIT, () -> Scrape.get(ops.port(), "/healthz").statusCode(), s -> s == 200, "health back");
        }
    }
}
