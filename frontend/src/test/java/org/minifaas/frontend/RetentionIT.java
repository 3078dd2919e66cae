package org.minifaas.frontend;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.minifaas.common.Json;
import org.minifaas.common.model.TaskStatus;
import org.minifaas.common.nats.NatsLayer;
import org.minifaas.common.testing.Poll;

/** With a short retention, a finished task leaves nothing behind once the retention sweep has run. */
class RetentionIT {
    static RunningFrontend frontend;
    static NatsLayer nats;
    static HttpClient http = RunningFrontend.HTTP;
    static String base;

    @BeforeAll
    static void start() throws Exception {
        frontend = RunningFrontend.start(s -> s.withRetention(Duration.ofSeconds(2)), List.of());
        nats = frontend.nats;
        base = frontend.base;
    }

    @AfterAll
    static void stop() throws Exception {
        frontend.close();
    }

    static int get(String path) throws Exception {
        return new V1Client(base).get("eve", path).statusCode();
    }

    static long streams() throws Exception {
        return nats.connection().jetStreamManagement().getStreamNames().size();
    }

    @Test
    void statusResultAndStreamsAreGoneAfterRetention() throws Exception {
        nats.taskQueue().ensure();
        // what the frontend's history sampler reads at start (the observer's bucket...): there before the baseline
        new SystemService(nats).status();
        nats.results(UUID.randomUUID()).exists(); // the results store all tasks share: there before the baseline
        long baseline = streams();
        HttpResponse<String> created = http.send(
                new V1Client(base)
                        .legacyCreateRequest("eve", "{\"url\":\"https://example.com/f.git\"}")
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        UUID id =
                UUID.fromString(Json.MAPPER.readTree(created.body()).get("data").asText());
        // what a worker does at the end of the task
        nats.results(id).write(Map.of("stdout.txt", "out".getBytes(StandardCharsets.UTF_8)));
        nats.userTasks("eve").setStatus(id, TaskStatus.FINISHED);
        assertEquals(200, get("/getTaskResult?taskId=" + id));
        assertEquals(baseline + 1, streams(), "a status bucket; results go to the store all tasks share");

        Poll.until(Duration.ofSeconds(20), () -> get("/getTaskStatus?taskId=" + id), s -> s == 404, "status to expire");
        assertEquals(404, get("/getTaskResult?taskId=" + id));
        assertEquals(
                "[]",
                V1Client.json(new V1Client(base).get("eve", "/getAllTasks"))
                        .get("data")
                        .toString());

        // the observer's periodic sweep
        Poll.until(
                Duration.ofSeconds(20),
                () -> {
                    nats.janitor().sweep(Duration.ZERO, Duration.ofMillis(100));
                    return streams();
                },
                n -> n == baseline,
                "the stream count to return to its baseline");
    }
}
