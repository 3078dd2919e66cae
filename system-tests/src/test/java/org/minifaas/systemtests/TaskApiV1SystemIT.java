package org.minifaas.systemtests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.minifaas.common.Json;
import org.minifaas.common.testing.NatsInspect;
import org.minifaas.common.testing.Poll;

/** Task API v1 end to end: the frontend, a worker with its sandbox, real Git, real go. */
class TaskApiV1SystemIT {
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

    private static JsonNode json(HttpResponse<String> r) throws IOException {
        return Json.MAPPER.readTree(r.body());
    }

    private static String user() {
        return "sys-" + UUID.randomUUID();
    }

    /** POST /v1/tasks; the new task's id. */
    private static String create(String user, String body) throws Exception {
        HttpResponse<String> r = stack.call("POST", "/v1/tasks", user, body);
        assertEquals(202, r.statusCode(), r.body());
        String id = json(r).get("id").asText();
        assertEquals("/v1/tasks/" + id, r.headers().firstValue("Location").orElse(null));
        return id;
    }

    private static JsonNode waitFinal(String user, String id) throws Exception {
        return Poll.until(
                Duration.ofSeconds(90),
                () -> json(stack.call("GET", "/v1/tasks/" + id + "?waitSeconds=20", user, null)),
                r -> !Map.of("PENDING", 1, "EXECUTING", 1)
                        .containsKey(r.get("status").asText()),
                "task " + id + " to end");
    }

    private static String file(String user, String id, String name) throws Exception {
        HttpResponse<String> r = stack.call("GET", "/v1/tasks/" + id + "/files/" + name, user, null);
        assertEquals(200, r.statusCode(), r.body());
        return r.body();
    }

    private static long millis(JsonNode record, String field) {
        assertTrue(record.hasNonNull(field), field + " missing in " + record);
        return record.get(field).asLong();
    }

    @Test
    void aRunLeavesAnExecutionRecordThatAddsUpAndWaitAnswersAtTheEnd() throws Exception {
        String repo = "record-" + UUID.randomUUID();
        String url = stack.git.createRepo(repo, Functions.says("hello"));
        String user = user();
        String id = create(user, "{\"url\":\"" + url + "\",\"parameters\":[\"a\",\"b c\"]}");

        long t0 = System.nanoTime();
        JsonNode r = json(stack.call("GET", "/v1/tasks/" + id + "?waitSeconds=60", user, null));
        long waitedMs = (System.nanoTime() - t0) / 1_000_000;
        assertEquals("FINISHED", r.get("status").asText(), r.toString());
        assertTrue(waitedMs < 30_000, "waitSeconds answers when the task ends, not after 60 s: " + waitedMs + " ms");

        assertEquals(300, r.get("code").asInt());
        assertEquals(id, r.get("id").asText());
        assertEquals(url, r.get("url").asText());
        assertEquals(stack.git.head(repo), r.get("commit").asText(), "the commit actually run");
        assertEquals(
                List.of("a", "b c"),
                List.of(
                        r.get("parameters").get(0).asText(),
                        r.get("parameters").get(1).asText()));
        assertEquals(0, r.get("exitCode").asInt());
        assertFalse(r.get("binaryCached").asBoolean());
        assertEquals(1, r.get("attempts").asInt());
        assertTrue(r.hasNonNull("workerId"));
        assertTrue(r.get("error") == null || r.get("error").isNull(), r.toString());
        Instant created = Instant.parse(r.get("createdAt").asText());
        Instant started = Instant.parse(r.get("startedAt").asText());
        Instant finished = Instant.parse(r.get("finishedAt").asText());
        assertFalse(started.isBefore(created));
        assertFalse(finished.isBefore(started));
        long total = Duration.between(created, finished).toMillis();
        long parts = millis(r, "queueMs") + millis(r, "cloneMs") + millis(r, "buildMs") + millis(r, "runMs");
        assertTrue(
                parts <= total + 3,
                "queue + clone + build + run (" + parts + " ms) fit in created..finished (" + total + " ms): " + r);
        assertTrue(millis(r, "runMs") > 0 && millis(r, "buildMs") > 0, r.toString());
        assertEquals("hello [a b c]\n", file(user, id, "stdout.txt"));
        assertTrue(r.get("links").get("logs").asText().endsWith("/v1/tasks/" + id + "/logs"), r.toString());

        // the same commit again: its binary comes from the cache
        String again = create(user, "{\"url\":\"" + url + "\",\"parameters\":[]}");
        JsonNode second = waitFinal(user, again);
        assertEquals("FINISHED", second.get("status").asText(), second.toString());
        assertTrue(second.get("binaryCached").asBoolean(), second.toString());
    }

    @Test
    void refRunsATagACommitOrABranch() throws Exception {
        String repo = "refs-" + UUID.randomUUID();
        String url = stack.git.createRepo(repo, Functions.says("one"));
        String first = stack.git.head(repo);
        stack.git.tag(repo, "v1");
        String second = stack.git.commit(repo, Functions.says("two"), "second");
        String user = user();

        String byTag = create(user, "{\"url\":\"" + url + "\",\"ref\":\"v1\"}");
        String byCommit = create(user, "{\"url\":\"" + url + "\",\"ref\":\"" + first + "\"}");
        String byBranch = create(user, "{\"url\":\"" + url + "\",\"ref\":\"main\"}");
        String byDefault = create(user, "{\"url\":\"" + url + "\"}");
        for (String[] c : new String[][] {
            {byTag, first, "one"}, {byCommit, first, "one"}, {byBranch, second, "two"}, {byDefault, second, "two"}
        }) {
            JsonNode r = waitFinal(user, c[0]);
            assertEquals("FINISHED", r.get("status").asText(), r.toString());
            assertEquals(c[1], r.get("commit").asText(), r.toString());
            assertEquals(c[2] + " []\n", file(user, c[0], "stdout.txt"));
        }

        String missing = create(user, "{\"url\":\"" + url + "\",\"ref\":\"no-such-branch\"}");
        JsonNode r = waitFinal(user, missing);
        assertEquals("FINISHED_WITH_ERRORS", r.get("status").asText(), r.toString());
        assertTrue(r.get("error").asText().contains("no-such-branch"), r.toString());
    }

    @Test
    void aLowerTimeoutOfTheTaskIsApplied() throws Exception {
        String url = stack.git.createRepo("slow-" + UUID.randomUUID(), Functions.TICKER);
        String user = user();
        String id = create(user, "{\"url\":\"" + url + "\",\"parameters\":[\"200\"],\"timeoutSeconds\":1}");
        JsonNode r = waitFinal(user, id);
        assertEquals("FINISHED_WITH_ERRORS", r.get("status").asText(), r.toString());
        assertEquals("timed out after 1 s", r.get("error").asText(), r.toString());
        assertEquals(
                400,
                stack.call("POST", "/v1/tasks", user, "{\"url\":\"" + url + "\",\"timeoutSeconds\":31}")
                        .statusCode(),
                "above the workers' limit");
    }

    @Test
    void logsStreamWhileTheFunctionRunsAndResumeWithoutLossOrDuplicates() throws Exception {
        String url = stack.git.createRepo("ticker-" + UUID.randomUUID(), Functions.TICKER);
        String user = user();
        String id = create(user, "{\"url\":\"" + url + "\",\"parameters\":[\"15\"]}");
        List<Sse.Event> first = new ArrayList<>();
        String statusAtFirstLine = null;
        try (Sse sse = Sse.open(stack.base + "/v1/tasks/" + id + "/logs", user, null)) {
            assertEquals(200, sse.status);
            assertTrue(sse.contentType.startsWith("text/event-stream"), sse.contentType);
            Sse.Event e;
            while ((e = sse.next(Duration.ofSeconds(60))) != null) {
                first.add(e);
                if (statusAtFirstLine == null && e.name().equals("stdout")) {
                    statusAtFirstLine = json(stack.call("GET", "/v1/tasks/" + id, user, null))
                            .get("status")
                            .asText();
                }
            }
        }
        assertEquals("EXECUTING", statusAtFirstLine, "the first line arrives while the function still runs");
        List<String> lines = new ArrayList<>();
        first.stream()
                .filter(e -> e.name().equals("stdout"))
                .forEach(e -> lines.addAll(List.of(e.data().split("\n"))));
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 15; i++) {
            expected.add("line " + i);
        }
        assertEquals(expected, lines, "every line, in order");
        assertEquals("end", first.get(first.size() - 1).name());
        assertTrue(
                first.stream()
                        .anyMatch(e -> e.name().equals("status") && e.data().contains("FINISHED")),
                first.toString());

        // resume after the fifth event that has an id: exactly the events after it
        List<Sse.Event> withIds = first.stream().filter(e -> e.id() != null).toList();
        Sse.Event cut = withIds.get(4);
        try (Sse resumed = Sse.open(stack.base + "/v1/tasks/" + id + "/logs", user, cut.id())) {
            List<Sse.Event> rest = resumed.rest(Duration.ofSeconds(30));
            assertEquals(ids(withIds.subList(5, withIds.size())), ids(rest));
        }
        // a finished task replays all of it, then ends
        try (Sse replay = Sse.open(stack.base + "/v1/tasks/" + id + "/logs", user, null)) {
            List<Sse.Event> again = replay.rest(Duration.ofSeconds(30)).stream()
                    .filter(e -> e.id() != null)
                    .toList();
            assertEquals(ids(withIds), ids(again));
        }
    }

    private static List<String> ids(List<Sse.Event> events) {
        return events.stream()
                .map(e -> e.id() + " " + e.name() + " " + e.data())
                .toList();
    }

    @Test
    void cancelKillsARunningTaskWithItsChildrenAndTheOriginalApiSaysCancelled() throws Exception {
        String url = stack.git.createRepo("sleeper-" + UUID.randomUUID(), Functions.SLEEPER);
        String user = user();
        String marker = "marker-" + UUID.randomUUID();
        String id = create(user, "{\"url\":\"" + url + "\",\"parameters\":[\"" + marker + "\"]}");
        try (Sse sse = Sse.open(stack.base + "/v1/tasks/" + id + "/logs", user, null)) {
            Sse.Event e;
            do {
                e = sse.next(Duration.ofSeconds(60));
                assertNotNull(e, "the log ended before the function started");
            } while (!(e.name().equals("stdout") && e.data().contains("started")));
        }
        assertFalse(processesWith(marker).isEmpty(), "the function's child runs");

        long t0 = System.nanoTime();
        HttpResponse<String> cancel = stack.call("DELETE", "/v1/tasks/" + id, user, null);
        assertTrue(cancel.statusCode() == 200 || cancel.statusCode() == 202, cancel.body());
        Poll.until(Duration.ofSeconds(5), () -> processesWith(marker), List::isEmpty, "the task's processes to end");
        long killedMs = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(killedMs < 2_000, "killed within about a second: " + killedMs + " ms");

        JsonNode r = json(stack.call("GET", "/v1/tasks/" + id, user, null));
        assertEquals("CANCELLED", r.get("status").asText());
        assertEquals(600, r.get("code").asInt());
        HttpResponse<String> legacy = stack.call("GET", "/getTaskStatus?taskId=" + id, user, null);
        assertEquals("{\"data\":\"CANCELLED\",\"code\":600}", legacy.body());
        assertEquals(409, stack.call("DELETE", "/v1/tasks/" + id, user, null).statusCode(), "already final");
        // the worker noticed: its slot is free again and the message acknowledged
        Poll.until(
                Duration.ofSeconds(30),
                () -> NatsInspect.backlog(stack.workerNats),
                b -> b == 0,
                "the queue to be empty");
        Poll.until(
                Duration.ofSeconds(30),
                () -> json(stack.call("GET", "/v1/tasks/" + id, user, null))
                        .get("status")
                        .asText(),
                "CANCELLED"::equals,
                "the record to stay CANCELLED");
    }

    @Test
    void aTaskCancelledWhileQueuedNeverRuns() throws Exception {
        String sleeper = stack.git.createRepo("busy-" + UUID.randomUUID(), Functions.SLEEPER);
        String url = stack.git.createRepo("queued-" + UUID.randomUUID(), Functions.says("ran"));
        String user = user();
        // both slots of the worker busy
        List<String> busy = new ArrayList<>();
        for (int i = 0; i < stack.workerConfig.concurrency(); i++) {
            busy.add(create(user, "{\"url\":\"" + sleeper + "\",\"parameters\":[\"busy-" + UUID.randomUUID() + "\"]}"));
        }
        for (String b : busy) {
            Poll.until(
                    Duration.ofSeconds(60),
                    () -> json(stack.call("GET", "/v1/tasks/" + b, user, null))
                            .get("status")
                            .asText(),
                    "EXECUTING"::equals,
                    "the slots to fill");
        }
        String queued = create(user, "{\"url\":\"" + url + "\"}");
        assertEquals(
                "PENDING",
                json(stack.call("GET", "/v1/tasks/" + queued, user, null))
                        .get("status")
                        .asText());
        assertEquals(
                200 / 100,
                stack.call("DELETE", "/v1/tasks/" + queued, user, null).statusCode() / 100);
        for (String b : busy) {
            stack.call("DELETE", "/v1/tasks/" + b, user, null);
        }
        Poll.until(
                Duration.ofSeconds(30),
                () -> NatsInspect.backlog(stack.workerNats),
                b -> b == 0,
                "the queue to be empty (the cancelled task taken and dropped)");
        JsonNode r = json(stack.call("GET", "/v1/tasks/" + queued, user, null));
        assertEquals("CANCELLED", r.get("status").asText(), r.toString());
        assertNull(
                r.get("startedAt") == null || r.get("startedAt").isNull()
                        ? null
                        : r.get("startedAt").asText(),
                "never started: " + r);
        HttpResponse<String> out = stack.call("GET", "/v1/tasks/" + queued + "/files/stdout.txt", user, null);
        assertFalse(out.statusCode() == 200 && out.body().contains("ran"), "no output: " + out.body());
    }

    @Test
    void theEndOfATaskIsPostedSignedToItsCallback() throws Exception {
        String url = stack.git.createRepo("hook-" + UUID.randomUUID(), Functions.says("hooked"));
        String user = user();
        LinkedBlockingQueue<String[]> received = new LinkedBlockingQueue<>();
        HttpServer receiver = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        java.util.concurrent.atomic.AtomicInteger calls = new java.util.concurrent.atomic.AtomicInteger();
        receiver.createContext("/hook", exchange -> {
            byte[] body = exchange.getRequestBody().readAllBytes();
            // the first call fails: the delivery is retried
            int status = calls.incrementAndGet() == 1 ? 503 : 204;
            received.add(new String[] {
                new String(body, StandardCharsets.UTF_8),
                exchange.getRequestHeaders().getFirst("X-MiniFaaS-Signature"),
                Integer.toString(status)
            });
            exchange.sendResponseHeaders(status, -1);
            exchange.close();
        });
        receiver.start();
        try {
            String hook = "http://127.0.0.1:" + receiver.getAddress().getPort() + "/hook";
            String id = create(user, "{\"url\":\"" + url + "\",\"callbackUrl\":\"" + hook + "\"}");
            String[] first = received.poll(90, TimeUnit.SECONDS);
            assertNotNull(first, "no delivery");
            String[] second = received.poll(30, TimeUnit.SECONDS);
            assertNotNull(second, "no retry after the receiver failed");
            JsonNode posted = Json.MAPPER.readTree(second[0]);
            assertEquals(id, posted.get("id").asText());
            assertEquals("FINISHED", posted.get("status").asText());
            // signed with the owner's own key, as the frontend hands it out, not with the server's secret
            HttpResponse<String> key = stack.call("GET", "/v1/webhook-key", user, null);
            assertEquals(200, key.statusCode(), key.body());
            String expected = hmac(json(key).get("key").asText(), second[0]);
            assertEquals(expected, second[1], "signed with the owner's key");
            assertFalse(hmac(Stack.WEBHOOK_SECRET, second[0]).equals(second[1]));
            String otherKey = json(stack.call("GET", "/v1/webhook-key", user(), null))
                    .get("key")
                    .asText();
            assertFalse(hmac(otherKey, second[0]).equals(second[1]), "another user's key does not verify it");
            JsonNode r = Poll.until(
                    Duration.ofSeconds(30),
                    () -> json(stack.call("GET", "/v1/tasks/" + id, user, null)),
                    rec -> rec.get("callback").get("state").asText().equals("DELIVERED"),
                    "the record to say delivered");
            assertEquals(2, r.get("callback").get("attempts").asInt(), r.toString());
        } finally {
            receiver.stop(0);
        }
    }

    private static String hmac(String key, String body) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(key.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        return "sha256=" + HexFormat.of().formatHex(mac.doFinal(body.getBytes(StandardCharsets.UTF_8)));
    }

    /** Processes whose command line contains {@code marker} (the function's child carries it). */
    private static List<String> processesWith(String marker) throws IOException {
        List<String> found = new ArrayList<>();
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path p : procs.filter(p -> p.getFileName().toString().matches("\\d+"))
                    .toList()) {
                try {
                    String cmd = new String(Files.readAllBytes(p.resolve("cmdline")), StandardCharsets.UTF_8);
                    if (cmd.contains(marker)) {
                        found.add(p.getFileName() + " " + cmd.replace('\0', ' '));
                    }
                } catch (IOException e) {
                    // ended meanwhile
                }
            }
        }
        return found;
    }
}
