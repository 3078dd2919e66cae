package org.minifaas.frontend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.minifaas.frontend.V1Client.json;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.minifaas.common.testing.Poll;

/** Log streams and waiting reads hold a thread each: beyond their caps (2 and 2 here) a request gets 503 at once. */
class HeldRequestCapsIT {
    static RunningFrontend frontend;
    static V1Client api;

    @BeforeAll
    static void start() throws Exception {
        frontend = RunningFrontend.start(s -> s, List.of(), false, c -> RunningFrontend.withCaps(c, 2, 2));
        api = new V1Client(frontend.base);
    }

    @AfterAll
    static void stop() throws Exception {
        frontend.close();
    }

    @Test
    void logStreamsBeyondTheCapAre503AndTheSlotsComeBack() throws Exception {
        String user = "caps-" + UUID.randomUUID();
        UUID id = api.createTask(user);
        List<V1Client.Stream> open = new ArrayList<>();
        try {
            for (int i = 0; i < 2; i++) {
                V1Client.Stream s = api.logs(user, id, null);
                assertEquals(200, s.response.statusCode());
                open.add(s);
            }
            HttpResponse<byte[]> refused = api.get(user, "/v1/tasks/" + id + "/logs");
            assertEquals(503, refused.statusCode());
            assertEquals("1", refused.headers().firstValue("Retry-After").orElse(""));
            assertTrue(json(refused).get("error").asText().contains("log streams"));
            // other requests are still served
            assertEquals(200, api.get(user, "/v1/tasks/" + id).statusCode());
        } finally {
            for (V1Client.Stream s : open) {
                s.close();
            }
        }
        // a stream whose client left ends at its next write (the keep-alive at the latest); an ended log ends it now
        frontend.nats.logs().end(id, org.minifaas.common.model.TaskStatus.FINISHED);
        Poll.until(
                java.time.Duration.ofSeconds(20),
                () -> {
                    try (V1Client.Stream s = api.logs(user, id, null)) {
                        return s.response.statusCode();
                    }
                },
                status -> status == 200,
                "a log stream slot to be free again");
    }

    @Test
    void waitingReadsBeyondTheCapAre503() throws Exception {
        String user = "caps-" + UUID.randomUUID();
        UUID id = api.createTask(user);
        List<CompletableFuture<HttpResponse<byte[]>>> waiting = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            waiting.add(RunningFrontend.HTTP.sendAsync(
                    api.request(user, "/v1/tasks/" + id + "?waitSeconds=3").build(),
                    HttpResponse.BodyHandlers.ofByteArray()));
        }
        Thread.sleep(1000); // both are waiting now
        HttpResponse<byte[]> refused = api.get(user, "/v1/tasks/" + id + "?waitSeconds=3");
        assertEquals(503, refused.statusCode());
        assertEquals("1", refused.headers().firstValue("Retry-After").orElse(""));
        assertEquals(200, api.get(user, "/v1/tasks/" + id).statusCode(), "a read that does not wait is served");
        for (var w : waiting) {
            assertEquals(200, w.get(10, TimeUnit.SECONDS).statusCode());
        }
        assertEquals(200, api.get(user, "/v1/tasks/" + id + "?waitSeconds=1").statusCode(), "slots released");
    }
}
