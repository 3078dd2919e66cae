package org.minifaas.systemtests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.minifaas.common.Json;
import org.minifaas.common.testing.Poll;
import org.minifaas.common.testing.Scrape;

/**
 * Each service's ops server, scraped over HTTP as Prometheus does, after real tasks ran through the whole stack:
 * the counters and histograms moved by what the tasks did, and nothing more.
 */
class MetricsSystemIT {
    static Stack stack;

    @BeforeAll
    static void start() throws Exception {
        stack = Stack.start(30);
    }

    @AfterAll
    static void stop() throws Exception {
        if (stack != null) {
            stack.close();
        }
    }

    /** What the test looks at, on the three ops servers at one moment. */
    record Snapshot(String frontend, String worker, String observer) {
        static Snapshot take() throws Exception {
            return new Snapshot(
                    Scrape.metrics(stack.ops.frontend().port()),
                    Scrape.metrics(stack.ops.worker().port()),
                    Scrape.metrics(stack.ops.observer().port()));
        }

        double finished(String status) {
            return Scrape.sum(worker, "minifaas_tasks_finished_total", "status=" + status, "service=worker");
        }
    }

    @Test
    void aTaskByEachApiMovesTheCountersOfEveryService() throws Exception {
        HttpServer receiver = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        receiver.createContext("/hook", exchange -> {
            exchange.getRequestBody().readAllBytes();
            exchange.sendResponseHeaders(204, -1);
            exchange.close();
        });
        receiver.start();
        try {
            Snapshot before = Snapshot.take();
            String unknownPath = "/no-such-" + UUID.randomUUID();
            assertEquals(404, stack.call("GET", unknownPath, "someone", null).statusCode());
            String url = stack.git.createRepo("metrics-" + UUID.randomUUID(), Functions.says("measured"));
            String user = "metrics-" + UUID.randomUUID();

            // one task by /v1, with a webhook; then the same repository by the original API (its binary is cached)
            String hook = "http://127.0.0.1:" + receiver.getAddress().getPort() + "/hook";
            HttpResponse<String> created =
                    stack.call("POST", "/v1/tasks", user, "{\"url\":\"" + url + "\",\"callbackUrl\":\"" + hook + "\"}");
            assertEquals(202, created.statusCode(), created.body());
            String first = Json.MAPPER.readTree(created.body()).get("id").asText();
            JsonNode firstRecord = waitFinal(user, first);
            HttpResponse<String> legacy = stack.call("POST", "/createTask", user, "{\"url\":\"" + url + "\"}");
            assertEquals(201, legacy.statusCode(), legacy.body());
            String second = Json.MAPPER.readTree(legacy.body()).get("data").asText();
            JsonNode secondRecord = waitFinal(user, second);
            assertEquals("FINISHED", firstRecord.get("status").asText(), firstRecord.toString());
            assertEquals("FINISHED", secondRecord.get("status").asText(), secondRecord.toString());

            // the worker counts a task once it is acknowledged, just after its record is final: polled, not slept
            Snapshot after = Poll.until(
                    Duration.ofSeconds(30),
                    Snapshot::take,
                    s -> s.finished("FINISHED") >= before.finished("FINISHED") + 2
                            && Scrape.sum(s.observer, "minifaas_webhook_deliveries_total", "outcome=delivered")
                                    >= Scrape.sum(
                                                    before.observer,
                                                    "minifaas_webhook_deliveries_total",
                                                    "outcome=delivered")
                                            + 1,
                    "the worker's and the observer's counters to move");

            // frontend: both creations, and the requests by route pattern (never by raw URL)
            assertEquals(
                    2,
                    delta(before.frontend, after.frontend, "minifaas_tasks_created_total", "service=frontend"),
                    after.frontend);
            assertEquals(
                    1,
                    delta(
                            before.frontend,
                            after.frontend,
                            "http_server_requests_seconds_count",
                            "method=POST",
                            "uri=/v1/tasks",
                            "status=202"));
            assertEquals(
                    1,
                    delta(
                            before.frontend,
                            after.frontend,
                            "http_server_requests_seconds_count",
                            "method=POST",
                            "uri=/createTask",
                            "status=201"));
            assertTrue(
                    delta(
                                    before.frontend,
                                    after.frontend,
                                    "http_server_requests_seconds_count",
                                    "method=GET",
                                    "uri=/v1/tasks/{id}",
                                    "status=200")
                            >= 1,
                    after.frontend);
            assertFalse(after.frontend.contains(first), "a task id in a label: unbounded series");
            assertEquals(
                    1,
                    delta(
                            before.frontend,
                            after.frontend,
                            "http_server_requests_seconds_count",
                            "method=GET",
                            "uri=UNMATCHED",
                            "status=404"));
            assertFalse(after.frontend.contains(unknownPath), "an unmatched path in a label: unbounded series");
            assertTrue(
                    Scrape.sum(after.frontend, "http_server_requests_seconds_bucket", "uri=/v1/tasks", "le=+Inf") >= 1,
                    "HTTP latency is a histogram");

            // worker: statuses, one histogram sample per phase per task, the cache, the slots
            assertEquals(2, after.finished("FINISHED") - before.finished("FINISHED"));
            for (String other : new String[] {"FINISHED_WITH_ERRORS", "UNEXPECTED_ERROR", "CANCELLED"}) {
                assertEquals(0, after.finished(other) - before.finished(other), other);
            }
            for (String phase : new String[] {"queue", "clone", "build", "run"}) {
                assertEquals(2, delta(before.worker, after.worker, "minifaas_task_" + phase + "_seconds_count"), phase);
            }
            double runSeconds = delta(before.worker, after.worker, "minifaas_task_run_seconds_sum");
            double runMs = firstRecord.get("runMs").asLong()
                    + secondRecord.get("runMs").asLong();
            assertEquals(runMs / 1000, runSeconds, 0.002, "the histogram holds the records' runMs");
            assertEquals(1, delta(before.worker, after.worker, "minifaas_binary_cache_misses_total"));
            assertEquals(1, delta(before.worker, after.worker, "minifaas_binary_cache_hits_total"));
            long skipped = (firstRecord.get("cloneSkipped").asBoolean() ? 1 : 0)
                    + (secondRecord.get("cloneSkipped").asBoolean() ? 1 : 0);
            assertEquals(skipped, delta(before.worker, after.worker, "minifaas_task_clone_skipped_total"));
            assertEquals(stack.workerConfig.concurrency(), Scrape.sum(after.worker, "minifaas_worker_slots"));
            Poll.until(
                    Duration.ofSeconds(10),
                    () -> Scrape.sum(stack.ops.worker().port(), "minifaas_worker_busy_slots"),
                    busy -> busy == 0,
                    "the slots to be free again");

            // every service: JVM metrics under its own service tag, and healthy
            for (Map.Entry<String, String> service : Map.of(
                            "frontend", after.frontend, "worker", after.worker, "observer", after.observer)
                    .entrySet()) {
                assertTrue(
                        Scrape.sum(
                                        service.getValue(),
                                        "jvm_memory_used_bytes",
                                        "service=" + service.getKey(),
                                        "area=heap")
                                > 0,
                        service.getKey());
            }
            for (Stack.OpsPort ops :
                    new Stack.OpsPort[] {stack.ops.frontend(), stack.ops.worker(), stack.ops.observer()}) {
                HttpResponse<String> health = Scrape.get(ops.port(), "/healthz");
                assertEquals(200, health.statusCode());
                assertEquals("{\"status\":\"ok\"}", health.body());
            }
        } finally {
            receiver.stop(0);
        }
    }

    private static double delta(String before, String after, String name, String... labels) {
        return Scrape.sum(after, name, labels) - Scrape.sum(before, name, labels);
    }

    private static JsonNode waitFinal(String user, String id) throws Exception {
        return Poll.until(
                Duration.ofSeconds(90),
                () -> Json.MAPPER.readTree(stack.call("GET", "/v1/tasks/" + id + "?waitSeconds=20", user, null)
                        .body()),
                r -> !Map.of("PENDING", 1, "EXECUTING", 1)
                        .containsKey(r.get("status").asText()),
                "task " + id + " to end");
    }
}
