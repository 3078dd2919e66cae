package org.minifaas.frontend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.minifaas.frontend.V1Client.json;
import static org.minifaas.frontend.V1Client.text;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.minifaas.common.Json;
import org.minifaas.common.model.Task;
import org.minifaas.common.model.TaskRecord;
import org.minifaas.common.model.TaskStatus;
import org.minifaas.common.nats.NatsLayer;
import org.minifaas.common.nats.TaskLogs;
import org.minifaas.common.nats.TaskQueue;
import org.minifaas.common.nats.WebhookQueue;
import org.minifaas.common.testing.NatsInspect;
import org.minifaas.common.testing.Poll;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The v1 task API over HTTP, on a real nats-server; the tests play the worker through the common API. */
class V1TasksIT {
    private static final Logger log = LoggerFactory.getLogger(V1TasksIT.class);
    static RunningFrontend frontend;
    static NatsLayer nats;
    static V1Client api;

    @BeforeAll
    static void start() throws Exception {
        frontend = RunningFrontend.start(s -> s.withMaxActiveTasks(10), List.of());
        nats = frontend.nats;
        api = new V1Client(frontend.base);
    }

    @AfterAll
    static void stop() throws Exception {
        frontend.close();
    }

    static String newUser() {
        return "v1-" + UUID.randomUUID();
    }

    static long enqueued() throws Exception {
        return nats.taskQueue().counters().enqueued();
    }

    static long queued() throws Exception {
        return NatsInspect.taskStream(nats).getStreamState().getMsgCount();
    }

    static Task queuedTask(UUID id) throws Exception {
        var jsm = nats.connection().jetStreamManagement();
        long last = NatsInspect.taskStream(nats).getStreamState().getLastSequence();
        for (long seq = last; seq > 0; seq--) {
            try {
                Task t = Json.fromBytes(jsm.getMessage(TaskQueue.STREAM, seq).getData(), Task.class);
                if (t.taskId().equals(id)) {
                    return t;
                }
            } catch (io.nats.client.JetStreamApiException gone) {
                // taken or deleted
            }
        }
        return null;
    }

    @Test
    void createAnswers202WithLocationAndTheRecord() throws Exception {
        String user = newUser();
        long before = enqueued();
        HttpResponse<byte[]> r = api.create(
                user,
                "{\"url\":\"https://example.com/fn.git\",\"parameters\":[\"x y\",\"$(id)\"],"
                        + "\"ref\":\"release/v1.2\",\"timeoutSeconds\":7,\"callbackUrl\":\"https://198.51.100.7/hook\"}");
        assertEquals(202, r.statusCode(), text(r));
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
        JsonNode body = json(r);
        String id = body.get("id").asText();
        assertEquals("/v1/tasks/" + id, r.headers().firstValue("Location").orElse(""));
        assertEquals("PENDING", body.get("status").asText());
        assertEquals(100, body.get("code").asInt());
        assertEquals("https://example.com/fn.git", body.get("url").asText());
        assertEquals("release/v1.2", body.get("ref").asText());
        assertEquals(7, body.get("timeoutSeconds").asInt());
        assertEquals("[\"x y\",\"$(id)\"]", body.get("parameters").toString());
        assertFalse(body.get("createdAt").isNull());
        assertTrue(body.get("startedAt").isNull());
        assertEquals(
                "https://198.51.100.7/hook", body.get("callback").get("url").asText());
        assertEquals("PENDING", body.get("callback").get("state").asText());
        assertEquals("/v1/tasks/" + id, body.get("links").get("self").asText());
        assertEquals("/v1/tasks/" + id + "/logs", body.get("links").get("logs").asText());
        assertEquals(
                "/v1/tasks/" + id + "/result", body.get("links").get("result").asText());
        assertEquals(before + 1, enqueued());

        // the queued message carries everything a worker needs
        Task task = queuedTask(UUID.fromString(id));
        assertEquals("release/v1.2", task.ref());
        assertEquals(7, task.timeoutSeconds());
        assertEquals("https://198.51.100.7/hook", task.callbackUrl());
        assertEquals(body.get("createdAt").asText(), task.createdAt());
        assertEquals(List.of("x y", "$(id)"), task.parameters());

        JsonNode read = json(api.get(user, "/v1/tasks/" + id));
        assertEquals(body, read);
        // the original API sees the same task
        assertEquals(
                "PENDING",
                json(api.get(user, "/getTaskStatus?taskId=" + id)).get("data").asText());
    }

    @Test
    void twentyConcurrentCreatesWithOneIdempotencyKeyMakeOneTask() throws Exception {
        String user = newUser();
        long before = enqueued();
        String key = "order-" + UUID.randomUUID();
        List<CompletableFuture<HttpResponse<byte[]>>> calls = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            calls.add(RunningFrontend.HTTP.sendAsync(
                    api.createRequest(user, "{\"url\":\"https://example.com/fn.git\"}", key)
                            .build(),
                    HttpResponse.BodyHandlers.ofByteArray()));
        }
        Set<String> ids = new HashSet<>();
        int accepted = 0;
        int repeated = 0;
        for (var call : calls) {
            HttpResponse<byte[]> r = call.get(60, TimeUnit.SECONDS);
            ids.add(json(r).get("id").asText());
            if (r.statusCode() == 202) {
                accepted++;
            } else if (r.statusCode() == 200) {
                repeated++;
            }
            assertEquals(
                    "/v1/tasks/" + json(r).get("id").asText(),
                    r.headers().firstValue("Location").orElse(""));
        }
        assertEquals(1, ids.size(), "every answer names the same task: " + ids);
        assertEquals(1, accepted);
        assertEquals(19, repeated);
        assertEquals(before + 1, enqueued(), "exactly one task queued");
        assertEquals(1, nats.userTasks(user).records().size());

        // a later retry with the key: 200, same task, nothing queued; another key or user is another task
        HttpResponse<byte[]> again = api.send(api.createRequest(user, "{\"url\":\"https://example.com/fn.git\"}", key));
        assertEquals(200, again.statusCode());
        assertEquals(ids.iterator().next(), json(again).get("id").asText());
        assertEquals(before + 1, enqueued());
        assertEquals(
                202,
                api.send(api.createRequest(newUser(), "{\"url\":\"https://example.com/fn.git\"}", key))
                        .statusCode());
    }

    @Test
    void aRetryCompletesTheTaskOfAKeyWhoseFirstRequestDiedHalfWay() throws Exception {
        String user = newUser();
        String key = "half-" + UUID.randomUUID();
        UUID first = UUID.randomUUID();
        // a first request claimed the key, then its frontend died (or NATS stopped answering) before storing the task
        assertTrue(nats.idempotency().claim(user, key, first).isEmpty());
        long before = enqueued();
        HttpResponse<byte[]> retry = api.send(api.createRequest(user, "{\"url\":\"https://example.com/fn.git\"}", key));
        assertEquals(200, retry.statusCode(), text(retry));
        assertEquals(first.toString(), json(retry).get("id").asText(), "the task the key names, not a new one");
        assertEquals(
                "PENDING",
                nats.userTasks(user).record(first).orElseThrow().status().name());
        assertEquals(before + 1, enqueued(), "queued once");
        HttpResponse<byte[]> again = api.send(api.createRequest(user, "{\"url\":\"https://example.com/fn.git\"}", key));
        assertEquals(first.toString(), json(again).get("id").asText());
        assertEquals(before + 1, enqueued(), "still once");
    }

    @Test
    void aCreationRefusedByTheQuotaReleasesItsIdempotencyKey() throws Exception {
        String user = newUser();
        var tasks = nats.userTasks(user);
        List<UUID> filler = new ArrayList<>();
        for (int i = 0; i < 10; i++) { // the quota of this frontend
            UUID id = UUID.randomUUID();
            tasks.createPending(id);
            filler.add(id);
        }
        long before = enqueued();
        HttpResponse<byte[]> full = api.send(api.createRequest(user, "{\"url\":\"https://example.com/fn.git\"}", "k1"));
        assertEquals(429, full.statusCode(), text(full));
        assertTrue(json(full).get("error").asText().contains("10"));
        tasks.forget(filler.get(0));
        HttpResponse<byte[]> retry =
                api.send(api.createRequest(user, "{\"url\":\"https://example.com/fn.git\"}", "k1"));
        assertEquals(202, retry.statusCode(), "the key was released: the retry creates the task; " + text(retry));
        assertEquals(before + 1, enqueued());
    }

    @Test
    void badInputInEveryFieldIs400AndStoresNothing() throws Exception {
        String user = newUser();
        long before = enqueued();
        String url = "\"url\":\"https://example.com/a.git\"";
        Map<String, String> bodies = new LinkedHashMap<>();
        bodies.put("{not json", "Malformed JSON");
        bodies.put("[]", "JSON object");
        bodies.put("{\"parameters\":[]}", "'url' is required");
        bodies.put("{\"url\":\"file:///etc\"}", "schemes");
        bodies.put("{\"url\":\"https://u:p@example.com/a.git\"}", "credentials");
        bodies.put("{\"url\":\"http://127.0.0.1/a.git\"}", "not allowed");
        bodies.put("{" + url + ",\"parameters\":\"a\"}", "list of strings");
        bodies.put("{" + url + ",\"parameters\":[1]}", "list of strings");
        bodies.put("{" + url + ",\"ref\":5}", "'ref'");
        bodies.put("{" + url + ",\"ref\":\"\"}", "'ref'");
        bodies.put("{" + url + ",\"ref\":\"-upload-pack=evil\"}", "'-'");
        bodies.put("{" + url + ",\"ref\":\"a..b\"}", "'..'");
        bodies.put("{" + url + ",\"ref\":\"a b\"}", "spaces or control");
        bodies.put("{" + url + ",\"ref\":\"a\\tb\"}", "spaces or control");
        bodies.put("{" + url + ",\"ref\":\"a\\u0001b\"}", "spaces or control");
        for (String c : List.of("~", "^", ":", "?", "*", "[", "\\\\")) {
            bodies.put("{" + url + ",\"ref\":\"v1" + c + "x\"}", "must not contain any of");
        }
        bodies.put("{" + url + ",\"ref\":\"" + "a".repeat(256) + "\"}", "longer than 255");
        bodies.put("{" + url + ",\"timeoutSeconds\":0}", "from 1 to 20");
        bodies.put("{" + url + ",\"timeoutSeconds\":-3}", "from 1 to 20");
        bodies.put("{" + url + ",\"timeoutSeconds\":1.5}", "from 1 to 20");
        bodies.put("{" + url + ",\"timeoutSeconds\":\"5\"}", "from 1 to 20");
        bodies.put("{" + url + ",\"timeoutSeconds\":21}", "at most 20 (MAX_SECONDS_EXECUTION_PER_REQUEST");
        bodies.put("{" + url + ",\"timeoutSeconds\":99999999999}", "from 1 to 20");
        bodies.put("{" + url + ",\"callbackUrl\":7}", "'callbackUrl'");
        bodies.put("{" + url + ",\"callbackUrl\":\"\"}", "'callbackUrl'");
        bodies.put(
                "{" + url + ",\"callbackUrl\":\"ftp://example.com/x\"}",
                "callbackUrl must use one of the schemes https, http");
        bodies.put("{" + url + ",\"callbackUrl\":\"git://example.com/x\"}", "callbackUrl must use one of the schemes");
        bodies.put(
                "{" + url + ",\"callbackUrl\":\"https://u:p@example.com/x\"}",
                "callbackUrl must not contain credentials");
        bodies.put(
                "{" + url + ",\"callbackUrl\":\"https://example.com/" + "a".repeat(2100) + "\"}",
                "callbackUrl is longer than 2048");
        bodies.put("{" + url + ",\"callbackUrl\":\"not a url\"}", "callbackUrl");
        for (String host : FrontendIT.PRIVATE_URLS) {
            bodies.put("{" + url + ",\"callbackUrl\":\"" + host + "\"}", "callbackUrl is refused");
        }
        for (Map.Entry<String, String> c : bodies.entrySet()) {
            HttpResponse<byte[]> r = api.create(user, c.getKey());
            assertEquals(400, r.statusCode(), c.getKey() + " -> " + text(r));
            assertTrue(json(r).get("error").asText().contains(c.getValue()), c.getKey() + " -> " + text(r));
        }
        for (String key : List.of("", " ", "x".repeat(256))) {
            HttpResponse<byte[]> r = api.send(api.createRequest(user, "{" + url + "}", key));
            assertEquals(400, r.statusCode(), "key '" + key + "' -> " + text(r));
            assertTrue(json(r).get("error").asText().contains("Idempotency-Key"), text(r));
        }
        // non-ASCII bytes (java.net.http would not send them)
        String body = "{" + url + "}";
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", frontend.app.port())) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream()
                    .write(("POST /v1/tasks HTTP/1.1\r\nHost: a\r\nX-Forwarded-User: " + user
                                    + "\r\nContent-Type: application/json\r\nIdempotency-Key: caf\u00e9\r\nContent-Length: "
                                    + body.length() + "\r\nConnection: close\r\n\r\n" + body)
                            .getBytes(StandardCharsets.ISO_8859_1));
            String answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            assertTrue(answer.startsWith("HTTP/1.1 400 ") && answer.contains("Idempotency-Key"), answer);
        }
        HttpResponse<byte[]> notJson = api.send(api.request(user, "/v1/tasks")
                .header("Content-Type", "text/plain")
                .POST(HttpRequest.BodyPublishers.ofString("{" + url + "}")));
        assertEquals(415, notJson.statusCode());
        HttpResponse<byte[]> big = api.create(user, "{" + url + ",\"parameters\":[\"" + "x".repeat(70 * 1024) + "\"]}");
        assertEquals(413, big.statusCode());
        assertEquals(before, enqueued());
        assertTrue(nats.existingUserTasks(user).isEmpty(), "no bucket for a user whose requests all failed");
        // the limits themselves are fine
        assertEquals(
                202,
                api.create(user, "{" + url + ",\"timeoutSeconds\":20,\"ref\":\"" + "a".repeat(255) + "\"}")
                        .statusCode());
    }

    @Test
    void waitSecondsAnswersAsSoonAsTheTaskEnds() throws Exception {
        String user = newUser();
        UUID id = api.createTask(user);
        CompletableFuture<Void> worker = CompletableFuture.runAsync(() -> {
            try {
                Thread.sleep(700);
                nats.userTasks(user).update(id, r -> r.started("w1", 1));
                Thread.sleep(300);
                nats.userTasks(user)
                        .update(id, r -> r.finished(TaskStatus.FINISHED, "abc", 1L, 2L, 3L, 0, false, null));
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        long start = System.nanoTime();
        HttpResponse<byte[]> r = api.get(user, "/v1/tasks/" + id + "?waitSeconds=20");
        long ms = (System.nanoTime() - start) / 1_000_000;
        worker.get(10, TimeUnit.SECONDS);
        assertEquals(200, r.statusCode(), text(r));
        assertEquals("FINISHED", json(r).get("status").asText());
        assertEquals(0, json(r).get("exitCode").asInt());
        log.info("waitSeconds=20 answered {} ms after the request, the task ended at about 1000 ms", ms);
        assertTrue(ms >= 900 && ms < 3000, "answered after " + ms + " ms");
    }

    @Test
    void aWaitingReadIsToldOfTheRecordsWritesInsteadOfReadingItOverAndOver() throws Exception {
        String user = newUser();
        UUID id = api.createTask(user);
        var stats = nats.connection().getStatistics(); // the frontend's own connection
        long before = stats.getOutMsgs();
        HttpResponse<byte[]> r = api.get(user, "/v1/tasks/" + id + "?waitSeconds=3");
        long sent = stats.getOutMsgs() - before;
        assertEquals("PENDING", json(r).get("status").asText());
        log.info("a 3 s waiting read of an unchanged task sent {} messages to NATS", sent);
        // a few reads, then one a second (reading every 100 ms sent 60)
        assertTrue(sent <= 10, sent + " messages sent while waiting 3 s");

        // a write that is not final is seen and waited past; the final one answers at once
        CompletableFuture<HttpResponse<byte[]>> waiting = RunningFrontend.HTTP.sendAsync(
                api.request(user, "/v1/tasks/" + id + "?waitSeconds=30").build(),
                HttpResponse.BodyHandlers.ofByteArray());
        Poll.until(Duration.ofSeconds(10), () -> frontend.tasks.waitingOf(user), n -> n == 1, "the read to wait");
        nats.userTasks(user).update(id, x -> x.started("w1", 1));
        Thread.sleep(200); // not synchronisation: the read must still be waiting after a non-final write
        assertFalse(waiting.isDone(), "answered on a write that was not final");
        nats.userTasks(user).update(id, x -> x.finished(TaskStatus.FINISHED, "abc", 1L, 2L, 3L, 0, false, null));
        assertEquals(
                "FINISHED",
                json(waiting.get(10, TimeUnit.SECONDS)).get("status").asText());
    }

    @Test
    void waitSecondsAnswersAfterNSecondsWhenTheTaskDoesNotEnd() throws Exception {
        String user = newUser();
        UUID id = api.createTask(user);
        long start = System.nanoTime();
        HttpResponse<byte[]> r = api.get(user, "/v1/tasks/" + id + "?waitSeconds=2");
        long ms = (System.nanoTime() - start) / 1_000_000;
        assertEquals(200, r.statusCode());
        assertEquals("PENDING", json(r).get("status").asText());
        assertTrue(ms >= 1950 && ms < 4000, "answered after " + ms + " ms");
        // a final task answers at once
        nats.userTasks(user).setStatus(id, TaskStatus.FINISHED);
        start = System.nanoTime();
        assertEquals(
                "FINISHED",
                json(api.get(user, "/v1/tasks/" + id + "?waitSeconds=60"))
                        .get("status")
                        .asText());
        assertTrue((System.nanoTime() - start) / 1_000_000 < 1000);
        // "%D9%A5" is ARABIC-INDIC DIGIT FIVE, which Integer.parseInt reads as 5
        for (String bad : List.of("61", "-1", "x", "1.5", "", "%D9%A5")) {
            HttpResponse<byte[]> b = api.get(user, "/v1/tasks/" + id + "?waitSeconds=" + bad);
            assertEquals(400, b.statusCode(), bad);
            assertTrue(json(b).get("error").asText().contains("waitSeconds"));
        }
        // not URL encoding at all: was dropped by the server as if absent, and the default used
        for (String bad : List.of("%zz", "1%")) {
            String answer = api.rawGet(user, "/v1/tasks/" + id + "?waitSeconds=" + bad);
            assertTrue(answer.startsWith("HTTP/1.1 400 ") && answer.contains("waitSeconds"), answer);
        }
        assertEquals(400, api.get(user, "/v1/tasks/not-a-uuid").statusCode());
        assertEquals(400, api.get(user, "/v1/tasks/1-1-1-1-1").statusCode()); // was read as 00000001-0001-...: 404
        assertEquals(400, api.get(user, "/getTaskStatus?taskId=1-1-1-1-1").statusCode());
    }

    @Test
    void listPagesNewestFirstWithStatusFilterAndCursor() throws Exception {
        String user = newUser();
        List<String> created = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            created.add(api.createTask(user).toString());
        }
        nats.userTasks(user).setStatus(UUID.fromString(created.get(1)), TaskStatus.FINISHED);
        // the expected order: createdAt descending, then id
        List<String> expected = new ArrayList<>();
        nats.userTasks(user).records().stream()
                .sorted(PageCursor.NEWEST_FIRST)
                .forEach(r -> expected.add(r.id().toString()));
        assertEquals(new HashSet<>(created), new HashSet<>(expected));
        assertEquals(created.get(4), expected.get(0), "the newest first");

        List<String> seen = new ArrayList<>();
        String cursor = null;
        int pages = 0;
        do {
            JsonNode page = json(api.get(user, "/v1/tasks?limit=2" + (cursor == null ? "" : "&cursor=" + cursor)));
            assertTrue(page.get("data").size() <= 2);
            page.get("data").forEach(t -> seen.add(t.get("id").asText()));
            cursor = page.get("nextCursor").isNull()
                    ? null
                    : page.get("nextCursor").asText();
            pages++;
        } while (cursor != null);
        assertEquals(3, pages);
        assertEquals(expected, seen);

        JsonNode all = json(api.get(user, "/v1/tasks"));
        assertEquals(5, all.get("data").size());
        assertTrue(all.get("nextCursor").isNull());
        JsonNode finished = json(api.get(user, "/v1/tasks?status=finished"));
        assertEquals(1, finished.get("data").size());
        assertEquals(created.get(1), finished.get("data").get(0).get("id").asText());
        assertEquals(
                4,
                json(api.get(user, "/v1/tasks?status=PENDING&limit=100"))
                        .get("data")
                        .size());
        assertEquals(
                "[]",
                json(api.get(user, "/v1/tasks?status=CANCELLED")).get("data").toString());
        JsonNode empty = json(api.get(newUser(), "/v1/tasks"));
        assertEquals("[]", empty.get("data").toString());
        assertTrue(empty.get("nextCursor").isNull());

        for (String bad : List.of(
                "status=DONE",
                "limit=0",
                "limit=101",
                "limit=x",
                "cursor=***",
                "cursor=abc",
                "cursor=" + java.util.Base64.getUrlEncoder().encodeToString("2026-01-01T00:00:00Z|nope".getBytes()))) {
            HttpResponse<byte[]> r = api.get(user, "/v1/tasks?" + bad);
            assertEquals(400, r.statusCode(), bad + " -> " + text(r));
            assertFalse(json(r).get("error").asText().isBlank());
        }
        // not URL encoding at all: was dropped by the server as if absent, and the default used
        for (String bad : List.of("limit=%zz", "limit=1%", "status=%zz", "cursor=%zz")) {
            String answer = api.rawGet(user, "/v1/tasks?" + bad);
            assertTrue(answer.startsWith("HTTP/1.1 400 ") && answer.contains(bad.split("=")[0]), answer);
        }
    }

    @Test
    void cancellingAQueuedTaskMakesItCancelledAndLeavesTheMessage() throws Exception {
        String user = newUser();
        HttpResponse<byte[]> created = api.create(
                user, "{\"url\":\"https://example.com/fn.git\",\"callbackUrl\":\"https://198.51.100.7/hook\"}");
        UUID id = UUID.fromString(json(created).get("id").asText());
        long inQueue = queued();

        HttpResponse<byte[]> r = api.delete(user, "/v1/tasks/" + id);
        assertEquals(200, r.statusCode(), text(r));
        assertEquals("CANCELLED", json(r).get("status").asText());
        assertEquals(600, json(r).get("code").asInt());
        assertEquals(TaskService.CANCELLED_PENDING, json(r).get("error").asText());
        assertFalse(json(r).get("finishedAt").isNull());

        HttpResponse<byte[]> again = api.delete(user, "/v1/tasks/" + id);
        assertEquals(409, again.statusCode());
        assertTrue(json(again).get("error").asText().contains("already ended (CANCELLED)"), text(again));

        // the message stays queued (a worker drops it on seeing the record); the record says CANCELLED
        assertEquals(inQueue, queued());
        assertEquals(id, queuedTask(id).taskId());
        assertEquals(TaskStatus.CANCELLED, nats.userTasks(user).status(id).orElseThrow());
        JsonNode legacy = json(api.get(user, "/getTaskStatus?taskId=" + id));
        assertEquals("CANCELLED", legacy.get("data").asText());
        assertEquals(600, legacy.get("code").asInt());
        assertEquals("cancelled before it ran\n", text(api.get(user, "/v1/tasks/" + id + "/files/error.txt")));
        assertEquals(
                Map.of("error.txt", "cancelled before it ran\n"),
                FrontendIT.unzip(api.get(user, "/getTaskResult?taskId=" + id).body()));

        // the log ends, and the callback is queued for the observer
        List<TaskLogs.Event> events = new ArrayList<>();
        try (TaskLogs.Reader reader = nats.logs().reader(id, 0)) {
            TaskLogs.Event e;
            while ((e = reader.next(Duration.ofMillis(500))) != null) {
                events.add(e);
            }
        }
        assertEquals(TaskLogs.Kind.END, events.get(events.size() - 1).kind());
        assertTrue(events.get(events.size() - 1).data().contains("\"CANCELLED\""));
        var job = nats.connection().jetStreamManagement().getLastMessage(WebhookQueue.STREAM, WebhookQueue.SUBJECT);
        assertEquals(new WebhookQueue.Job(id, user), Json.fromBytes(job.getData(), WebhookQueue.Job.class));
    }

    @Test
    void cancellingARunningTaskSignalsItsWorker() throws Exception {
        String user = newUser();
        UUID id = api.createTask(user);
        nats.userTasks(user).update(id, r -> r.started("w1", 1));
        LinkedBlockingQueue<UUID> signals = new LinkedBlockingQueue<>();
        try (AutoCloseable ignored = nats.cancels().listen(signals::add)) {
            nats.connection().flush(Duration.ofSeconds(2));
            HttpResponse<byte[]> r = api.delete(user, "/v1/tasks/" + id);
            assertEquals(202, r.statusCode(), text(r));
            assertEquals("CANCELLED", json(r).get("status").asText());
            assertEquals(TaskService.CANCELLED_RUNNING, json(r).get("error").asText());
            assertEquals("w1", json(r).get("workerId").asText());
            assertEquals(id, signals.poll(5, TimeUnit.SECONDS), "the workers were told");
        }
        TaskRecord stored = nats.userTasks(user).record(id).orElseThrow();
        assertEquals(TaskStatus.CANCELLED, stored.status());
        assertEquals(409, api.delete(user, "/v1/tasks/" + id).statusCode());
        // a finished task cannot be cancelled either
        UUID done = api.createTask(user);
        nats.userTasks(user).setStatus(done, TaskStatus.FINISHED_WITH_ERRORS);
        HttpResponse<byte[]> late = api.delete(user, "/v1/tasks/" + done);
        assertEquals(409, late.statusCode());
        assertTrue(json(late).get("error").asText().contains("FINISHED_WITH_ERRORS"));
    }

    @Test
    void resultAndFilesOfAFinishedTask() throws Exception {
        String user = newUser();
        UUID id = api.createTask(user);
        for (String path : List.of("/result", "/files/stdout.txt")) {
            HttpResponse<byte[]> early = api.get(user, "/v1/tasks/" + id + path);
            assertEquals(409, early.statusCode(), path);
            assertTrue(json(early).get("error").asText().contains("not finished yet (PENDING)"), text(early));
        }
        nats.results(id)
                .write(Map.of(
                        "stdout.txt", "hello\nworld\n".getBytes(StandardCharsets.UTF_8), "stderr.txt", new byte[0]));
        nats.userTasks(user).setStatus(id, TaskStatus.FINISHED);

        HttpResponse<byte[]> out = api.get(user, "/v1/tasks/" + id + "/files/stdout.txt");
        assertEquals(200, out.statusCode());
        assertTrue(out.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"));
        assertEquals("hello\nworld\n", text(out));
        HttpResponse<byte[]> err = api.get(user, "/v1/tasks/" + id + "/files/stderr.txt");
        assertEquals(200, err.statusCode());
        assertEquals("", text(err));
        for (String name : List.of("error.txt", "passwd", "stdout.txt.bak", "..")) {
            HttpResponse<byte[]> r = api.get(user, "/v1/tasks/" + id + "/files/" + name);
            assertEquals(404, r.statusCode(), name + " -> " + text(r));
            assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
        }
        HttpResponse<byte[]> zip = api.get(user, "/v1/tasks/" + id + "/result");
        assertEquals(200, zip.statusCode());
        assertEquals("application/zip", zip.headers().firstValue("Content-Type").orElse(""));
        assertEquals(
                "attachment; filename=\"" + id + "_results.zip\"",
                zip.headers().firstValue("Content-Disposition").orElse(""));
        assertEquals(Map.of("stdout.txt", "hello\nworld\n", "stderr.txt", ""), FrontendIT.unzip(zip.body()));
    }

    @Test
    void anotherUsersTaskIs404OnEveryRoute() throws Exception {
        String owner = newUser();
        UUID id = api.createTask(owner);
        nats.results(id).write(Map.of("stdout.txt", "secret".getBytes(StandardCharsets.UTF_8)));
        nats.userTasks(owner).setStatus(id, TaskStatus.FINISHED);
        String other = newUser();
        api.createTask(other); // the other user has a bucket too
        for (String user : List.of(other, newUser())) {
            for (UUID task : List.of(id, UUID.randomUUID())) {
                String base = "/v1/tasks/" + task;
                List<HttpResponse<byte[]>> answers = List.of(
                        api.get(user, base),
                        api.get(user, base + "?waitSeconds=1"),
                        api.delete(user, base),
                        api.get(user, base + "/logs"),
                        api.get(user, base + "/result"),
                        api.get(user, base + "/files/stdout.txt"));
                for (HttpResponse<byte[]> r : answers) {
                    assertEquals(404, r.statusCode(), r.uri() + " -> " + text(r));
                    assertTrue(
                            r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"),
                            r.uri().toString());
                    assertEquals(
                            "Task " + task + " not found.", json(r).get("error").asText());
                }
            }
        }
        assertEquals(TaskStatus.FINISHED, nats.userTasks(owner).status(id).orElseThrow(), "not cancelled by others");
        assertEquals(200, api.get(owner, "/v1/tasks/" + id).statusCode());
        for (String path : List.of("/v1/tasks", "/v1/tasks/" + id, "/v1/tasks/" + id + "/logs")) {
            assertEquals(401, api.get(null, path).statusCode(), path);
        }
        assertNull(json(api.get(other, "/v1/tasks")).get("data").get(1));
    }
}
