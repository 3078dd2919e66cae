package org.minifaas.frontend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.minifaas.frontend.V1Client.json;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.minifaas.common.model.TaskStatus;
import org.minifaas.common.testing.Poll;

/**
 * One user cannot hold all the slots of held requests: at most 10 log streams and 10 waiting reads each (the
 * defaults), beyond which that user gets 429 while everyone else is still served.
 */
class PerUserCapsIT {
    static final int PER_USER = FrontendConfig.DEFAULT_MAX_LOG_STREAMS_PER_USER;
    static RunningFrontend frontend;
    static V1Client api;

    @BeforeAll
    static void start() throws Exception {
        frontend = RunningFrontend.start(s -> s, List.of());
        api = new V1Client(frontend.base);
        assertEquals(10, FrontendConfig.DEFAULT_MAX_LOG_STREAMS_PER_USER);
        assertEquals(10, FrontendConfig.DEFAULT_MAX_WAITING_REQUESTS_PER_USER);
    }

    @AfterAll
    static void stop() throws Exception {
        frontend.close();
    }

    @Test
    void theEleventhLogStreamOfOneUserIs429WhileAnotherUserIsServed() throws Exception {
        String hog = "hog-" + UUID.randomUUID();
        String other = "other-" + UUID.randomUUID();
        UUID id = api.createTask(hog);
        UUID otherId = api.createTask(other);
        List<V1Client.Stream> open = new ArrayList<>();
        try {
            for (int i = 0; i < PER_USER; i++) {
                V1Client.Stream s = api.logs(hog, id, null);
                assertEquals(200, s.response.statusCode());
                open.add(s);
            }
            assertEquals(PER_USER, frontend.logs.streamsOf(hog));
            HttpResponse<byte[]> refused = api.get(hog, "/v1/tasks/" + id + "/logs");
            assertEquals(429, refused.statusCode());
            assertEquals("1", refused.headers().firstValue("Retry-After").orElse(""));
            assertTrue(refused.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
            assertTrue(
                    json(refused)
                            .get("error")
                            .asText()
                            .startsWith("Too many log streams open for this user (limit 10)"),
                    json(refused).toString());
            // the refusal held nothing
            assertEquals(PER_USER, frontend.logs.streamsOf(hog));
            try (V1Client.Stream s = api.logs(other, otherId, null)) {
                assertEquals(200, s.response.statusCode(), "another user still gets a stream");
            }
        } finally {
            for (V1Client.Stream s : open) {
                s.close();
            }
        }
        // the ended log ends the streams at once: the user's slots come back
        frontend.nats.logs().end(id, TaskStatus.FINISHED);
        Poll.until(Duration.ofSeconds(20), () -> frontend.logs.streamsOf(hog), n -> n == 0, "the streams to be closed");
        try (V1Client.Stream s = api.logs(hog, id, null)) {
            assertEquals(200, s.response.statusCode());
        }
    }

    @Test
    void theEleventhWaitingReadOfOneUserIs429WhileAnotherUserIsServed() throws Exception {
        String hog = "hog-" + UUID.randomUUID();
        String other = "other-" + UUID.randomUUID();
        UUID id = api.createTask(hog);
        UUID otherId = api.createTask(other);
        List<CompletableFuture<HttpResponse<byte[]>>> waiting = new ArrayList<>();
        for (int i = 0; i < PER_USER; i++) {
            waiting.add(RunningFrontend.HTTP.sendAsync(
                    api.request(hog, "/v1/tasks/" + id + "?waitSeconds=30").build(),
                    HttpResponse.BodyHandlers.ofByteArray()));
        }
        Poll.until(
                Duration.ofSeconds(10),
                () -> frontend.tasks.waitingOf(hog),
                n -> n == PER_USER,
                "all the reads to be waiting");
        HttpResponse<byte[]> refused = api.get(hog, "/v1/tasks/" + id + "?waitSeconds=1");
        assertEquals(429, refused.statusCode());
        assertEquals("1", refused.headers().firstValue("Retry-After").orElse(""));
        assertTrue(
                json(refused).get("error").asText().startsWith("Too many waiting reads open for this user (limit 10)"),
                json(refused).toString());
        assertEquals(200, api.get(hog, "/v1/tasks/" + id).statusCode(), "a read that does not wait is served");
        HttpResponse<byte[]> others = api.get(other, "/v1/tasks/" + otherId + "?waitSeconds=1");
        assertEquals(200, others.statusCode(), "another user may still wait");
        // the task ends: every waiting read answers within a poll, and the slots come back
        assertEquals(200, api.delete(hog, "/v1/tasks/" + id).statusCode());
        for (var w : waiting) {
            HttpResponse<byte[]> r = w.get(10, TimeUnit.SECONDS);
            assertEquals(200, r.statusCode());
            assertEquals("CANCELLED", json(r).get("status").asText());
        }
        assertEquals(0, frontend.tasks.waitingOf(hog));
        assertEquals(0, frontend.tasks.waitingOf(other));
    }
}
