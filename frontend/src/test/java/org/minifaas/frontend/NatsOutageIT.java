package org.minifaas.frontend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.minifaas.frontend.V1Client.json;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.minifaas.common.testing.Poll;

/** NATS killed (SIGKILL) under a running frontend, then restarted on the same port and store. */
class NatsOutageIT {
    static final String ADMIN = "admin@example.com";
    static RunningFrontend frontend;

    @BeforeAll
    static void start() throws Exception {
        frontend = RunningFrontend.start(s -> s, List.of(ADMIN));
    }

    @AfterAll
    static void stop() throws Exception {
        frontend.close();
    }

    static HttpRequest.Builder request(String path) {
        return api().request("outage-user", path)
                .timeout(Duration.ofSeconds(10))
                .header("X-Forwarded-Email", ADMIN);
    }

    static V1Client api() {
        return new V1Client(frontend.base);
    }

    static HttpResponse<byte[]> send(HttpRequest.Builder request) throws Exception {
        return api().send(request);
    }

    static HttpRequest.Builder createTask() {
        return api().legacyCreateRequest("outage-user", "{\"url\":\"https://198.51.100.7/x.git\"}")
                .timeout(Duration.ofSeconds(10))
                .header("X-Forwarded-Email", ADMIN);
    }

    static HttpRequest.Builder injectFile() {
        return api().injectRequest("outage-user", ADMIN, "a.txt", "hello".getBytes(StandardCharsets.UTF_8))
                .timeout(Duration.ofSeconds(10));
    }

    @Test
    void everyEndpointAnswers503AtOnceWhileNatsIsDownThenRecovers() throws Exception {
        HttpResponse<byte[]> created = send(createTask());
        assertEquals(201, created.statusCode(), new String(created.body()));
        String id = json(created).get("data").asText();

        frontend.server.kill();
        HttpResponse<byte[]> health = Poll.until(
                Duration.ofSeconds(10),
                () -> send(request("/healthz")),
                r -> r.statusCode() == 503,
                "/healthz to report the outage");
        assertEquals("nats unavailable", json(health).get("status").asText());

        Map<String, HttpRequest.Builder> endpoints = new LinkedHashMap<>();
        endpoints.put("createTask", createTask());
        endpoints.put("getTaskStatus", request("/getTaskStatus?taskId=" + id));
        endpoints.put("getAllTasks", request("/getAllTasks"));
        endpoints.put("getTaskResult", request("/getTaskResult?taskId=" + id));
        endpoints.put("getSystemStatus", request("/getSystemStatus"));
        endpoints.put("injectFile", injectFile());
        endpoints.put(
                "POST /v1/tasks",
                request("/v1/tasks")
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString("{\"url\":\"https://198.51.100.7/x.git\"}")));
        endpoints.put("GET /v1/tasks", request("/v1/tasks"));
        endpoints.put("GET /v1/tasks/{id}", request("/v1/tasks/" + id + "?waitSeconds=5"));
        endpoints.put("DELETE /v1/tasks/{id}", request("/v1/tasks/" + id).DELETE());
        endpoints.put("GET /v1/tasks/{id}/logs", request("/v1/tasks/" + id + "/logs"));
        endpoints.put("GET /v1/tasks/{id}/result", request("/v1/tasks/" + id + "/result"));
        endpoints.put("GET /v1/tasks/{id}/files/{name}", request("/v1/tasks/" + id + "/files/stdout.txt"));
        for (Map.Entry<String, HttpRequest.Builder> e : endpoints.entrySet()) {
            long start = System.nanoTime();
            HttpResponse<byte[]> r = send(e.getValue());
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertEquals(503, r.statusCode(), e.getKey() + ": " + new String(r.body()));
            assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"), e.getKey());
            assertFalse(json(r).get("error").asText().isBlank(), e.getKey());
            assertTrue(millis < 1000, e.getKey() + " took " + millis + " ms");
        }
        assertEquals(503, send(request("/healthz")).statusCode(), "still down");
        // the documentation needs no NATS
        assertEquals(200, send(request("/v1/openapi.json")).statusCode());
        assertEquals(200, send(request("/docs")).statusCode());

        frontend.server.restart();
        health = Poll.until(
                Duration.ofSeconds(30),
                () -> send(request("/healthz")),
                r -> r.statusCode() == 200,
                "/healthz to recover");
        assertEquals("ok", json(health).get("status").asText());
        HttpResponse<byte[]> status = Poll.until(
                Duration.ofSeconds(30),
                () -> send(request("/getTaskStatus?taskId=" + id)),
                r -> r.statusCode() == 200,
                "the task created before the outage to be readable");
        assertEquals("PENDING", json(status).get("data").asText());
        assertEquals(201, send(createTask()).statusCode());
        assertEquals(2, json(send(request("/getAllTasks"))).get("data").size());
    }
}
