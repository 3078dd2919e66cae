package org.minifaas.frontend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.minifaas.frontend.V1Client.json;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.minifaas.common.nats.InjectionQueue;
import org.minifaas.common.nats.NatsLayer;
import org.minifaas.common.nats.ObserverStore;

/** The admin endpoints over HTTP, on a real nats-server. */
class AdminIT {
    static final String ADMIN = "admin@example.com";
    static RunningFrontend frontend;
    static NatsLayer nats;
    static V1Client api;

    @BeforeAll
    static void start() throws Exception {
        frontend = RunningFrontend.start(s -> s, List.of(ADMIN, "ops@example.org"));
        nats = frontend.nats;
        api = new V1Client(frontend.base);
    }

    @AfterAll
    static void stop() throws Exception {
        frontend.close();
    }

    static HttpResponse<byte[]> status(String email) throws Exception {
        HttpRequest.Builder b = api.request("someone", "/getSystemStatus");
        if (email != null) {
            b.header("X-Forwarded-Email", email);
        }
        return api.send(b);
    }

    static HttpResponse<byte[]> inject(String email, String fileName, byte[] content) throws Exception {
        return api.send(api.injectRequest("someone", email, fileName, content));
    }

    static long queued() throws Exception {
        nats.injections().ensure();
        return nats.connection()
                .jetStreamManagement()
                .getStreamInfo(InjectionQueue.STREAM)
                .getStreamState()
                .getMsgCount();
    }

    @Test
    void onlyExactAdminAddressesMayReadTheSystemStatus() throws Exception {
        for (String email : Arrays.asList(
                null,
                "",
                " ",
                "admin@example",
                "dmin@example.com",
                "admin@example.com.evil.org",
                "admin@example.comx",
                "user@example.com",
                "admin@example.com,ops@example.org")) {
            HttpResponse<byte[]> r = status(email);
            assertEquals(403, r.statusCode(), "email " + email);
            assertTrue(json(r).get("error").asText().contains("administrators"));
        }
        assertEquals(200, status("Admin@Example.COM").statusCode());
        assertEquals(200, status("ops@example.org").statusCode());
    }

    @Test
    void systemStatusShowsTheObserversStateAndLogsOldestFirst() throws Exception {
        ObserverStore store = nats.observer();
        store.put(ObserverStore.STATUS, "congested");
        store.put(ObserverStore.WORKERS, "4");
        store.log(1_000, "first event");
        store.log(2_000, "second event");
        nats.workers().beat("w-1", "{}");
        HttpResponse<byte[]> r = status(ADMIN);
        assertEquals(200, r.statusCode());
        JsonNode body = json(r);
        assertEquals("congested", body.get("status").asText());
        assertEquals("4", body.get("number_of_workers").asText());
        assertTrue(body.get("number_of_workers").isTextual());
        assertEquals(1, body.get("live_workers").asInt());
        assertEquals(0, body.get("backlog").asInt());
        List<String> logs = new ArrayList<>();
        body.get("data").forEach(n -> logs.add(n.asText()));
        assertEquals(List.of("first event", "second event"), logs);
        assertEquals(0, body.get("warnings").size(), "a sandboxed worker is no reason to warn");
        nats.workers().leave("w-1");
    }

    @Test
    void aWorkerWithoutSandboxIsAWarningInTheSystemStatus() throws Exception {
        nats.workers().beat("unsafe-1", "{\"concurrency\":1,\"busy\":0,\"sandbox\":\"off\"}");
        nats.workers().beat("safe-1", "{\"concurrency\":1,\"busy\":0,\"sandbox\":\"on\"}");
        try {
            JsonNode warnings = json(status(ADMIN)).get("warnings");
            assertEquals(1, warnings.size(), warnings.toString());
            assertEquals(
                    "worker unsafe-1 runs functions WITHOUT a sandbox (SANDBOX=off)",
                    warnings.get(0).asText());
        } finally {
            nats.workers().leave("unsafe-1");
            nats.workers().leave("safe-1");
        }
    }

    @Test
    void injectedFileIsQueuedUnderItsSafeBaseName() throws Exception {
        long before = queued();
        byte[] content = "k=v\n".getBytes(StandardCharsets.UTF_8);
        HttpResponse<byte[]> r = inject(ADMIN, "../../etc/settings.conf", content);
        assertEquals(200, r.statusCode(), new String(r.body()));
        assertEquals("settings.conf", json(r).get("data").asText());
        assertEquals(before + 1, queued());
        var message =
                nats.connection().jetStreamManagement().getLastMessage(InjectionQueue.STREAM, InjectionQueue.SUBJECT);
        assertEquals("settings.conf", message.getHeaders().getFirst(InjectionQueue.NAME_HEADER));
        assertArrayEquals(content, message.getData());
        assertEquals(
                "evil.sh",
                json(inject(ADMIN, "C:\\\\temp\\\\evil.sh", content))
                        .get("data")
                        .asText());
    }

    @Test
    void badInjectionsAreRefusedAndQueueNothing() throws Exception {
        long before = queued();
        assertEquals(403, inject("user@example.com", "a.txt", new byte[1]).statusCode());
        assertEquals(403, inject(null, "a.txt", new byte[1]).statusCode());
        HttpResponse<byte[]> noFile = inject(ADMIN, null, null);
        assertEquals(400, noFile.statusCode());
        assertTrue(json(noFile).get("error").asText().contains("'file'"));
        assertEquals(400, inject(ADMIN, "..", new byte[1]).statusCode());
        HttpResponse<byte[]> big = inject(ADMIN, "big.bin", new byte[FrontendConfig.DEFAULT_MAX_INJECT_BYTES + 1]);
        assertEquals(413, big.statusCode());
        assertTrue(
                json(big).get("error").asText().startsWith("File too large"),
                json(big).toString());
        HttpResponse<byte[]> notMultipart = api.send(api.request("someone", "/injectFile")
                .header("X-Forwarded-Email", ADMIN)
                .POST(HttpRequest.BodyPublishers.ofString("plain")));
        assertEquals(400, notMultipart.statusCode());
        for (String type : List.of("multipart/form-data", "multipart/form-data; boundary=xyz")) {
            HttpResponse<byte[]> garbage = api.send(api.request("someone", "/injectFile")
                    .header("X-Forwarded-Email", ADMIN)
                    .header("Content-Type", type)
                    .POST(HttpRequest.BodyPublishers.ofString("--xyz\r\nnot a part")));
            assertEquals(400, garbage.statusCode(), type + ": " + new String(garbage.body()));
            assertTrue(json(garbage).get("error").asText().contains("multipart"));
        }
        assertEquals(before, queued());
    }

    @Test
    void theLargestAllowedFileFitsInOneNatsMessage() throws Exception {
        byte[] content = new byte[FrontendConfig.DEFAULT_MAX_INJECT_BYTES];
        HttpResponse<byte[]> r = inject(ADMIN, "max.bin", content);
        assertEquals(200, r.statusCode(), new String(r.body()));
        var message =
                nats.connection().jetStreamManagement().getLastMessage(InjectionQueue.STREAM, InjectionQueue.SUBJECT);
        assertEquals("max.bin", message.getHeaders().getFirst(InjectionQueue.NAME_HEADER));
        assertEquals(content.length, message.getData().length);
    }
}
