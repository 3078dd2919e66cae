package org.minifaas.frontend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.minifaas.frontend.V1Client.json;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.minifaas.common.Json;
import org.minifaas.common.model.TaskStatus;
import org.minifaas.common.nats.BucketNames;
import org.minifaas.common.nats.NatsLayer;
import org.minifaas.common.nats.TaskQueue;
import org.minifaas.common.testing.NatsInspect;

/** The task API over HTTP, on a real nats-server. */
class FrontendIT {
    static RunningFrontend frontend;
    static NatsLayer nats;
    static HttpClient http = RunningFrontend.HTTP;
    static V1Client api;
    static String base;

    @BeforeAll
    static void start() throws Exception {
        frontend = RunningFrontend.start(s -> s, List.of("admin@example.com"));
        nats = frontend.nats;
        base = frontend.base;
        api = new V1Client(base);
    }

    @AfterAll
    static void stop() throws Exception {
        frontend.close();
    }

    /** Repository URLs that lead to this machine or a private network, each spelled another way. */
    static final List<String> PRIVATE_URLS = List.of(
            "http://127.0.0.1:4222/x.git",
            "http://localhost/x",
            "http://[::1]/x",
            "http://169.254.169.254/latest",
            "http://10.0.0.1/x",
            "http://0x7f000001/x",
            "http://2130706433/x",
            "https://[::ffff:127.0.0.1]/x");

    static String newUser() {
        return "user-" + UUID.randomUUID();
    }

    static HttpResponse<byte[]> get(String user, String path) throws Exception {
        return api.get(user, path);
    }

    static HttpResponse<byte[]> post(String user, String body) throws Exception {
        return post(user, "application/json", body);
    }

    static HttpResponse<byte[]> post(String user, String contentType, String body) throws Exception {
        return api.post(user, "/createTask", contentType, body);
    }

    static UUID create(String user) throws Exception {
        HttpResponse<byte[]> r = post(user, "{\"url\":\"https://example.com/fn.git\",\"parameters\":[\"a\"]}");
        assertEquals(201, r.statusCode(), new String(r.body()));
        return UUID.fromString(json(r).get("data").asText());
    }

    static long queued() throws Exception {
        return NatsInspect.taskStream(nats).getStreamState().getMsgCount();
    }

    @Test
    void createdTaskIsPendingListedAndQueued() throws Exception {
        String user = newUser();
        long before = queued();
        HttpResponse<byte[]> r =
                post(user, "{\"url\":\"https://example.com/fn.git\",\"parameters\":[\"x y\",\"$(id)\"]}");
        assertEquals(201, r.statusCode());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
        String id = json(r).get("data").asText();

        JsonNode status = json(get(user, "/getTaskStatus?taskId=" + id));
        assertEquals("PENDING", status.get("data").asText());
        assertEquals(100, status.get("code").asInt());

        JsonNode all = json(get(user, "/getAllTasks"));
        assertEquals(List.of(id), Json.MAPPER.convertValue(all.get("data"), List.class));
        assertEquals(before + 1, queued());

        // the queued message is the task, parameters intact
        var message = nats.connection()
                .jetStreamManagement()
                .getMessage(
                        TaskQueue.STREAM,
                        NatsInspect.taskStream(nats).getStreamState().getLastSequence());
        var task = Json.fromBytes(message.getData(), org.minifaas.common.model.Task.class);
        assertEquals(List.of("x y", "$(id)"), task.parameters());
        assertEquals(user, task.userId());
    }

    @Test
    void newUserHasNoTasks() throws Exception {
        HttpResponse<byte[]> r = get(newUser(), "/getAllTasks");
        assertEquals(200, r.statusCode());
        assertEquals("[]", json(r).get("data").toString());
    }

    @Test
    void missingIdentityIs401Everywhere() throws Exception {
        for (String path : List.of(
                "/getAllTasks",
                "/getTaskStatus?taskId=" + UUID.randomUUID(),
                "/getTaskResult?taskId=" + UUID.randomUUID())) {
            HttpResponse<byte[]> r = get(null, path);
            assertEquals(401, r.statusCode(), path);
            assertTrue(json(r).get("error").asText().contains("X-Forwarded-User"));
        }
        long before = queued();
        assertEquals(401, post(null, "{\"url\":\"https://example.com/a.git\"}").statusCode());
        assertEquals(401, post(" ", "{\"url\":\"https://example.com/a.git\"}").statusCode());
        assertEquals(before, queued());
        assertEquals(200, get(null, "/healthz").statusCode());
    }

    @Test
    void repeatedIdentityOrIdempotencyHeadersAre400AndStoreNothing() throws Exception {
        // a proxy that adds its header after the client's would otherwise leave the client's first, and in charge
        long before = queued();
        for (String[] headers : List.of(
                new String[] {"X-Forwarded-User", "mallory", "X-Forwarded-User", "alice"},
                new String[] {
                    "X-Forwarded-User",
                    "alice",
                    "X-Forwarded-Email",
                    "a@example.com",
                    "X-Forwarded-Email",
                    "admin@example.com"
                },
                new String[] {"X-Forwarded-User", "alice", "Idempotency-Key", "a", "Idempotency-Key", "b"})) {
            HttpResponse<byte[]> r = api.send(api.request(null, "/v1/tasks")
                    .headers(headers)
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"url\":\"https://example.com/a.git\"}")));
            assertEquals(400, r.statusCode(), String.join(" ", headers)); // was 202, the first value winning
            assertTrue(json(r).get("error").asText().contains("once"));
        }
        assertEquals(before, queued());
        HttpResponse<byte[]> admin = api.send(api.request(null, "/getSystemStatus")
                .headers(
                        "X-Forwarded-User", "u", "X-Forwarded-Email", "admin@example.com", "X-Forwarded-Email", "x@y"));
        assertEquals(400, admin.statusCode());
    }

    @Test
    void badRequestsAre400AndStoreNothing() throws Exception {
        String user = newUser();
        long before = queued();
        Map<String, String> bodies = new LinkedHashMap<>();
        bodies.put("{not json", "Malformed JSON");
        bodies.put("[]", "JSON object");
        bodies.put("{\"parameters\":[]}", "'url' is required");
        bodies.put("{\"url\":\"\"}", "'url' is required");
        bodies.put("{\"url\":42}", "'url' is required");
        bodies.put("{\"url\":\"https://example.com/a.git\",\"parameters\":\"a b\"}", "list of strings");
        bodies.put("{\"url\":\"https://example.com/a.git\",\"parameters\":[1,2]}", "list of strings");
        bodies.put("{\"url\":\"file:///etc\"}", "schemes");
        bodies.put("{\"url\":\"ssh://git@example.com/a.git\"}", "schemes");
        bodies.put("{\"url\":\"example.com/a.git\"}", "schemes");
        bodies.put("{\"url\":\"https://user:pw@example.com/a.git\"}", "credentials");
        for (Map.Entry<String, String> c : bodies.entrySet()) {
            HttpResponse<byte[]> r = post(user, c.getKey());
            assertEquals(400, r.statusCode(), c.getKey());
            assertTrue(
                    json(r).get("error").asText().contains(c.getValue()), c.getKey() + " -> " + new String(r.body()));
        }
        assertEquals(400, get(user, "/getTaskStatus").statusCode());
        assertEquals(400, get(user, "/getTaskStatus?taskId=").statusCode());
        assertEquals(400, get(user, "/getTaskStatus?taskId=not-a-uuid").statusCode());
        assertEquals(400, get(user, "/getTaskResult").statusCode());

        assertEquals(before, queued());
        assertEquals("[]", json(get(user, "/getAllTasks")).get("data").toString());
        assertTrue(nats.existingUserTasks(user).isEmpty(), "no bucket for a user whose requests all failed");
    }

    @Test
    void privateAndLoopbackRepositoriesAre400AndStoreNothing() throws Exception {
        String user = newUser();
        long before = queued();
        for (String url : PRIVATE_URLS) {
            HttpResponse<byte[]> r = post(user, "{\"url\":\"" + url + "\"}");
            assertEquals(400, r.statusCode(), url);
            String error = json(r).get("error").asText();
            assertTrue(
                    error.contains("not allowed")
                            && error.contains("(" + URI.create(url).getHost() + ")"),
                    url + " -> " + error);
        }
        assertEquals(before, queued());
        assertTrue(nats.existingUserTasks(user).isEmpty(), "no bucket for a user whose requests all failed");
        // a public address is fine (nobody clones it here)
        assertEquals(201, post(user, "{\"url\":\"https://198.51.100.7/x.git\"}").statusCode());
    }

    @Test
    void createTaskWithoutJsonContentTypeIs415AndStoresNothing() throws Exception {
        String user = newUser();
        long before = queued();
        String body = "{\"url\":\"https://198.51.100.7/x.git\"}";
        for (String type : Arrays.asList(
                null,
                "text/plain",
                "application/x-www-form-urlencoded",
                "multipart/form-data; boundary=x",
                "application/json-patch+json",
                "application/jsonp",
                "")) {
            HttpResponse<byte[]> r = post(user, type, body);
            assertEquals(415, r.statusCode(), "Content-Type " + type);
            assertTrue(json(r).get("error").asText().contains("Content-Type: application/json"), new String(r.body()));
        }
        assertEquals(before, queued());
        assertTrue(nats.existingUserTasks(user).isEmpty(), "no bucket for a user whose requests all failed");
        for (String type : List.of("application/json; charset=utf-8", "Application/JSON;charset=UTF-8")) {
            assertEquals(201, post(user, type, body).statusCode(), type);
        }
        assertEquals(before + 2, queued());
    }

    /** Raw HTTP/1.1, as java.net.http refuses to send some of these requests. */
    static String rawExchange(String request) throws Exception {
        try (Socket socket = new Socket("127.0.0.1", frontend.app.port())) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            socket.getInputStream().transferTo(out);
            return out.toString(StandardCharsets.ISO_8859_1);
        }
    }

    @Test
    void everyErrorIsJsonIncludingJettys() throws Exception {
        // 20 KB of header: refused by Jetty itself, before any route
        HttpResponse<byte[]> big = http.send(
                HttpRequest.newBuilder(URI.create(base + "/getAllTasks"))
                        .header("X-Forwarded-User", newUser())
                        .header("X-Padding", "x".repeat(20 * 1024))
                        .build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(431, big.statusCode());
        assertEquals(
                "application/json", big.headers().firstValue("Content-Type").orElse(""));
        assertEquals("Request Header Fields Too Large", json(big).get("error").asText());

        Map<String, Integer> cases = new LinkedHashMap<>();
        cases.put("GET /healthz HTTP/1.1\r\nHost: a\r\nX-Padding: " + "x".repeat(20 * 1024) + "\r\n", 431);
        cases.put("PUT /createTask HTTP/1.1\r\nHost: a\r\nX-Padding: " + "x".repeat(20 * 1024) + "\r\n", 431);
        cases.put("GET /" + "a".repeat(20 * 1024) + " HTTP/1.1\r\nHost: a\r\n", 414);
        cases.put("GET /healthz HTTP/1.1\r\n", 400); // no Host
        cases.put("GET /%2e%2e/etc/passwd HTTP/1.1\r\nHost: a\r\n", 400);
        cases.put("POST /createTask HTTP/1.1\r\nHost: a\r\nX-Forwarded-User: u\r\nContent-Length: x\r\n", 400);
        cases.put("GET /healthz HTTP/9.9\r\nHost: a\r\n", 505);
        cases.put("GET /nothing HTTP/1.1\r\nHost: a\r\nX-Forwarded-User: u\r\n", 404);
        cases.put("GET /createTask HTTP/1.1\r\nHost: a\r\nX-Forwarded-User: u\r\n", 405);
        cases.put("DELETE /getAllTasks HTTP/1.1\r\nHost: a\r\nX-Forwarded-User: u\r\n", 405);
        for (Map.Entry<String, Integer> c : cases.entrySet()) {
            String request = c.getKey();
            String what = request.substring(0, Math.min(40, request.indexOf("\r\n")));
            String answer = rawExchange(request + "Connection: close\r\n\r\n");
            assertTrue(answer.startsWith("HTTP/1.1 " + c.getValue() + " "), what + " -> " + answer);
            int split = answer.indexOf("\r\n\r\n");
            String headers = answer.substring(0, split).toLowerCase(Locale.ROOT);
            assertTrue(headers.contains("\r\ncontent-type: application/json"), what + " -> " + answer);
            JsonNode body = Json.MAPPER.readTree(answer.substring(split + 4));
            assertTrue(
                    body.get("error").isTextual() && !body.get("error").asText().isBlank(), what + " -> " + answer);
        }
    }

    @Test
    void unreadableBodyIs400NotNatsUnavailable() throws Exception {
        // bad chunking: the client's fault, which once answered 503 as if NATS were down
        String answer = rawExchange("POST /createTask HTTP/1.1\r\nHost: a\r\nX-Forwarded-User: " + newUser()
                + "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                + "8\r\n{\"url\":\"\r\nzz\r\n");
        assertTrue(answer.startsWith("HTTP/1.1 400 "), answer);
        assertTrue(answer.endsWith("{\"error\":\"The request body could not be read.\"}"), answer);
    }

    @Test
    void oversizedBodyIs413() throws Exception {
        String user = newUser();
        long before = queued();
        String big = "{\"url\":\"https://example.com/a.git\",\"parameters\":[\"" + "x".repeat(70 * 1024) + "\"]}";
        HttpResponse<byte[]> r = post(user, big);
        assertEquals(413, r.statusCode());
        assertTrue(json(r).get("error").asText().contains("too large"));
        assertEquals(before, queued());
    }

    @Test
    void headIsRefusedEverywhereWithoutRunningARoute() throws Exception {
        String owner = newUser();
        UUID id = create(owner);
        String other = newUser(); // not an admin, not the task's owner
        for (String path : List.of(
                "/getSystemStatus",
                "/admin",
                "/getTaskStatus?taskId=" + id,
                "/getTaskStatus?taskId=zzz",
                "/getTaskResult?taskId=" + id,
                "/v1/tasks/" + id,
                "/v1/tasks/not-a-uuid",
                "/getAllTasks",
                "/healthz")) {
            HttpResponse<byte[]> r =
                    api.send(api.request(other, path).method("HEAD", HttpRequest.BodyPublishers.noBody()));
            assertEquals(405, r.statusCode(), path); // was an empty 200 on every GET route
            assertEquals("GET", r.headers().firstValue("Allow").orElse(""), path);
        }
        assertEquals(200, get(owner, "/getTaskStatus?taskId=" + id).statusCode());
    }

    @Test
    void unknownAndForeignTasksAreTheSame404() throws Exception {
        String owner = newUser();
        UUID id = create(owner);
        String other = newUser();
        create(other); // the other user has a bucket too
        for (String path : List.of("/getTaskStatus?taskId=", "/getTaskResult?taskId=")) {
            HttpResponse<byte[]> foreign = get(other, path + id);
            HttpResponse<byte[]> unknown = get(other, path + UUID.randomUUID());
            HttpResponse<byte[]> noBucket = get(newUser(), path + id);
            assertEquals(404, foreign.statusCode());
            assertEquals(404, unknown.statusCode());
            assertEquals(404, noBucket.statusCode());
            assertTrue(json(foreign).get("error").asText().contains("not found"));
        }
        assertEquals(200, get(owner, "/getTaskStatus?taskId=" + id).statusCode());
    }

    @Test
    void quotaIsExactUnder100ConcurrentCreates() throws Exception {
        String user = newUser();
        long before = queued();
        List<CompletableFuture<HttpResponse<byte[]>>> calls = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            HttpRequest req = api.legacyCreateRequest(user, "{\"url\":\"https://example.com/a.git\"}")
                    .build();
            calls.add(http.sendAsync(req, HttpResponse.BodyHandlers.ofByteArray()));
        }
        int created = 0;
        int refused = 0;
        for (var call : calls) {
            HttpResponse<byte[]> r = call.get();
            if (r.statusCode() == 201) {
                created++;
            } else if (r.statusCode() == 429) {
                refused++;
                assertTrue(json(r).get("error").asText().contains("80"));
            }
        }
        assertEquals(80, created);
        assertEquals(20, refused);
        assertEquals(80, json(get(user, "/getAllTasks")).get("data").size());
        assertEquals(before + 80, queued());
    }

    @Test
    void emailsAndSystemBucketNamesWorkAsUserIds() throws Exception {
        for (String user : List.of(
                "Jane.Doe+faas@example.com",
                BucketNames.OBSERVER_BUCKET,
                BucketNames.INJECTOR_BUCKET,
                "KV_" + BucketNames.OBSERVER_BUCKET,
                "109876543210987654321",
                "long-" + "x".repeat(400))) {
            UUID id = create(user);
            assertEquals(
                    "PENDING",
                    json(get(user, "/getTaskStatus?taskId=" + id)).get("data").asText());
            assertEquals(1, json(get(user, "/getAllTasks")).get("data").size(), user);
        }
    }

    @Test
    void resultIsNotReadyThenAFlatZip() throws Exception {
        String user = newUser();
        UUID id = create(user);
        HttpResponse<byte[]> pending = get(user, "/getTaskResult?taskId=" + id);
        assertEquals(200, pending.statusCode());
        assertEquals(
                "Given task has not finished yet.", json(pending).get("data").asText());

        nats.results(id)
                .write(Map.of(
                        "stdout.txt", "hello\n".getBytes(StandardCharsets.UTF_8),
                        "stderr.txt", new byte[0],
                        "error.txt", "exit code 3\n".getBytes(StandardCharsets.UTF_8)));
        nats.userTasks(user).setStatus(id, TaskStatus.FINISHED_WITH_ERRORS);

        HttpResponse<byte[]> done = get(user, "/getTaskResult?taskId=" + id);
        assertEquals(200, done.statusCode());
        assertEquals(
                "application/zip", done.headers().firstValue("Content-Type").orElse(""));
        assertEquals(
                "attachment; filename=\"" + id + "_results.zip\"",
                done.headers().firstValue("Content-Disposition").orElse(""));
        Map<String, String> entries = unzip(done.body());
        assertEquals(List.of("stdout.txt", "stderr.txt", "error.txt"), new ArrayList<>(entries.keySet()));
        assertEquals("hello\n", entries.get("stdout.txt"));
        assertEquals("exit code 3\n", entries.get("error.txt"));
    }

    @Test
    void aStoredResultIsServedAsStoredAndOneFileAtATime() throws Exception {
        String user = newUser();
        UUID id = create(user);
        byte[] big = new byte[3 << 20];
        new java.util.Random(7).nextBytes(big);
        Map<String, byte[]> files = new LinkedHashMap<>(); // the worker's order
        files.put("stdout.txt", big);
        files.put("stderr.txt", "warn\n".getBytes(StandardCharsets.UTF_8));
        files.put("error.txt", "exit code 1\n".getBytes(StandardCharsets.UTF_8));
        nats.results(id).write(files);
        nats.userTasks(user).setStatus(id, TaskStatus.FINISHED_WITH_ERRORS);

        // the stored object itself: no copy unzipped and zipped again on the frontend's heap
        byte[] stored = nats.results(id).readZip().orElseThrow();
        HttpResponse<byte[]> zip = get(user, "/getTaskResult?taskId=" + id);
        assertEquals(200, zip.statusCode());
        assertArrayEquals(stored, zip.body());
        assertArrayEquals(stored, get(user, "/v1/tasks/" + id + "/result").body());
        HttpResponse<byte[]> one = get(user, "/v1/tasks/" + id + "/files/stdout.txt");
        assertEquals(200, one.statusCode());
        assertArrayEquals(big, one.body());
        assertEquals(
                "warn\n",
                new String(get(user, "/v1/tasks/" + id + "/files/stderr.txt").body(), StandardCharsets.UTF_8));
        assertEquals(
                404, get(newUser(), "/v1/tasks/" + id + "/files/stdout.txt").statusCode());
    }

    @Test
    void resultDownloadsAtOnceAreCappedByTheHeap() {
        // 128 MiB of heap and 10 MiB results (the defaults): 3 at once; never 0, never more than 8
        assertEquals(3, TaskService.resultReadSlots(128L << 20, 10L << 20));
        assertEquals(1, TaskService.resultReadSlots(128L << 20, 1L << 30));
        assertEquals(8, TaskService.resultReadSlots(4L << 30, 1L << 20));
    }

    static Map<String, String> unzip(byte[] zip) throws Exception {
        Map<String, String> out = new LinkedHashMap<>();
        try (ZipInputStream in = new ZipInputStream(new ByteArrayInputStream(zip))) {
            ZipEntry e;
            while ((e = in.getNextEntry()) != null) {
                out.put(e.getName(), new String(in.readAllBytes(), StandardCharsets.UTF_8));
            }
        }
        return out;
    }
}
