package org.minifaas.frontend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.minifaas.frontend.V1Client.json;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.minifaas.common.model.TaskStatus;
import org.minifaas.common.nats.NatsLayer;
import org.minifaas.common.nats.TaskLogs;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** GET /v1/tasks/{id}/logs: Server-Sent Events over a task's live log, on a real nats-server. */
class V1LogsIT {
    private static final Logger log = LoggerFactory.getLogger(V1LogsIT.class);
    static final Duration WAIT = Duration.ofSeconds(10);
    static RunningFrontend frontend;
    static NatsLayer nats;
    static V1Client api;

    @BeforeAll
    static void start() throws Exception {
        frontend = RunningFrontend.start(s -> s, List.of());
        nats = frontend.nats;
        api = new V1Client(frontend.base);
    }

    @AfterAll
    static void stop() throws Exception {
        frontend.close();
    }

    static String newUser() {
        return "logs-" + UUID.randomUUID();
    }

    /** What a worker publishes for a short run: phases, output (one event with two lines), the end. */
    static void publishRun(UUID id) throws Exception {
        TaskLogs logs = nats.logs();
        logs.status(id, TaskStatus.EXECUTING, "clone");
        logs.status(id, TaskStatus.EXECUTING, "run");
        logs.output(id, TaskLogs.Kind.STDOUT, "hello").get(5, TimeUnit.SECONDS);
        logs.output(id, TaskLogs.Kind.STDERR, "warning: two\nlines").get(5, TimeUnit.SECONDS);
        logs.output(id, TaskLogs.Kind.STDOUT, "bye").get(5, TimeUnit.SECONDS);
        logs.end(id, TaskStatus.FINISHED);
    }

    static void assertEventStream(HttpResponse<?> r) {
        assertEquals(200, r.statusCode());
        assertTrue(
                r.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream"),
                r.headers().map().toString());
        assertEquals("no-cache", r.headers().firstValue("Cache-Control").orElse(""));
        assertTrue(r.headers().firstValue("Content-Encoding").isEmpty(), "never compressed");
    }

    @Test
    void aFinishedTaskIsReplayedThenTheStreamEnds() throws Exception {
        String user = newUser();
        UUID id = api.createTask(user);
        nats.userTasks(user).update(id, r -> r.started("w1", 1));
        publishRun(id);
        nats.userTasks(user).setStatus(id, TaskStatus.FINISHED);

        try (V1Client.Stream stream = api.logs(user, id, null)) {
            assertEventStream(stream.response);
            List<V1Client.Event> events = stream.rest(WAIT);
            List<String> kinds = events.stream().map(V1Client.Event::kind).toList();
            assertEquals(List.of("status", "status", "status", "stdout", "stderr", "stdout", "status", "end"), kinds);
            // first the record's status, without id (nothing to resume from)
            assertNull(events.get(0).id());
            assertEquals("{\"status\":\"FINISHED\",\"code\":300}", events.get(0).data());
            assertTrue(events.get(1).data().contains("\"phase\":\"clone\""));
            assertEquals("hello", events.get(3).data());
            assertEquals("warning: two\nlines", events.get(4).data(), "one data: line per line, joined again");
            assertEquals("{\"status\":\"FINISHED\",\"code\":300}", events.get(7).data());
            long previous = 0;
            for (V1Client.Event e : events.subList(1, events.size())) {
                long seq = Long.parseLong(e.id());
                assertTrue(seq > previous, "ids increase: " + events);
                previous = seq;
            }
        }
    }

    @Test
    void eventsPublishedAfterConnectingArriveAtOnce() throws Exception {
        String user = newUser();
        UUID id = api.createTask(user);
        try (V1Client.Stream stream = api.logs(user, id, null)) {
            assertEventStream(stream.response);
            V1Client.Event first = stream.next(WAIT);
            assertEquals("status", first.kind());
            assertEquals("{\"status\":\"PENDING\",\"code\":100}", first.data());
            Thread.sleep(300); // the reader is following now

            nats.userTasks(user).update(id, r -> r.started("w1", 1));
            List<Long> latencies = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                long sent = System.nanoTime();
                nats.logs().output(id, TaskLogs.Kind.STDOUT, "line " + i).get(5, TimeUnit.SECONDS);
                V1Client.Event e = stream.next(WAIT);
                assertEquals("stdout", e.kind());
                assertEquals("line " + i, e.data());
                latencies.add((e.receivedNanos() - sent) / 1_000_000);
                Thread.sleep(50);
            }
            log.info("log events from publish to the SSE client, ms: {}", latencies);
            long worst = latencies.stream().mapToLong(Long::longValue).max().orElseThrow();
            assertTrue(worst < 1000, "latencies " + latencies);
            assertTrue(
                    latencies.stream().sorted().toList().get(latencies.size() / 2) < 250,
                    "median over 250 ms: " + latencies);

            nats.userTasks(user).setStatus(id, TaskStatus.FINISHED);
            nats.logs().end(id, TaskStatus.FINISHED);
            List<String> rest =
                    stream.rest(WAIT).stream().map(V1Client.Event::kind).toList();
            assertEquals(List.of("status", "end"), rest, "the final status, the end, then the stream closes");
        }
    }

    @Test
    void lastEventIdResumesWithExactlyTheRemainingEvents() throws Exception {
        String user = newUser();
        UUID id = api.createTask(user);
        publishRun(id);
        nats.userTasks(user).setStatus(id, TaskStatus.FINISHED);
        List<V1Client.Event> all;
        try (V1Client.Stream stream = api.logs(user, id, null)) {
            all = stream.rest(WAIT).subList(1, 8); // without the record's status
        }
        for (int cut = 0; cut < all.size(); cut++) {
            try (V1Client.Stream stream = api.logs(user, id, all.get(cut).id())) {
                assertEventStream(stream.response);
                List<V1Client.Event> rest = stream.rest(WAIT);
                if (cut == all.size() - 1) {
                    // everything was received: an end is made up (after the idle check) so the client stops
                    assertEquals(1, rest.size(), rest.toString());
                    assertEquals("end", rest.get(0).kind());
                    assertNull(rest.get(0).id());
                    continue;
                }
                assertEquals(
                        ids(all.subList(cut + 1, all.size())),
                        ids(rest),
                        "after " + all.get(cut).id());
            }
        }
        // the stream resumes at id + 1: the largest long (and anything beyond a long) is a 400, not a 500
        for (String bad : List.of(
                "x",
                "-1",
                "1.5",
                "9223372036854775807",
                "9223372036854775808",
                "99999999999999999999999",
                "+1",
                "1e3",
                "0x10")) {
            HttpResponse<byte[]> r =
                    api.send(api.request(user, "/v1/tasks/" + id + "/logs").header("Last-Event-ID", bad));
            assertEquals(400, r.statusCode(), bad);
            assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"), bad);
            assertTrue(json(r).get("error").asText().contains("Last-Event-ID"));
        }
        // the largest id allowed opens a stream (with nothing after it)
        try (V1Client.Stream s = api.logs(user, id, Long.toString(Long.MAX_VALUE - 1))) {
            assertEquals(200, s.response.statusCode());
        }
    }

    static List<String> ids(List<V1Client.Event> events) {
        return events.stream().map(e -> e.kind() + "#" + e.id()).toList();
    }

    @Test
    void aReaderWhoseConsumerIsDeletedIsReplacedAndNothingIsLost() throws Exception {
        String user = newUser();
        UUID id = api.createTask(user);
        try (V1Client.Stream stream = api.logs(user, id, null)) {
            assertEquals("status", stream.next(WAIT).kind()); // the record's, without id
            List<Long> stored = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                stored.add(nats.logs()
                        .output(id, TaskLogs.Kind.STDOUT, "before " + i)
                        .get(5, TimeUnit.SECONDS)
                        .getSeqno());
            }
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                ids.add(stream.next(WAIT).id());
            }
            // the consumer behind the stream goes away (a server lost it); the record does not change, so only the
            // failed read can make the follow open another, from its last event
            io.nats.client.JetStreamManagement jsm = nats.connection().jetStreamManagement();
            for (String consumer : jsm.getConsumerNames(TaskLogs.STREAM)) {
                jsm.deleteConsumer(TaskLogs.STREAM, consumer);
            }
            long start = System.nanoTime();
            for (int i = 0; i < 3; i++) {
                stored.add(nats.logs()
                        .output(id, TaskLogs.Kind.STDOUT, "after " + i)
                        .get(5, TimeUnit.SECONDS)
                        .getSeqno());
            }
            for (int i = 0; i < 3; i++) {
                V1Client.Event e = stream.next(WAIT);
                assertEquals("after " + i, e.data());
                ids.add(e.id());
            }
            long ms = (System.nanoTime() - start) / 1_000_000;
            assertEquals(stored.stream().map(String::valueOf).toList(), ids, "every event once, in order");
            assertTrue(ms < LogService.IDLE_CHECK.toMillis(), "replaced at once, not by an idle check: " + ms + " ms");
            nats.userTasks(user).setStatus(id, TaskStatus.FINISHED);
            nats.logs().end(id, TaskStatus.FINISHED);
            assertEquals(
                    List.of("status", "end"),
                    stream.rest(WAIT).stream().map(V1Client.Event::kind).toList());
        }
    }

    @Test
    void aFinalTaskWithoutAnEndGetsOneMadeUpFromItsRecord() throws Exception {
        String user = newUser();
        UUID id = api.createTask(user);
        nats.userTasks(user).setStatus(id, TaskStatus.FINISHED_WITH_ERRORS); // as a task of an older version
        long start = System.nanoTime();
        try (V1Client.Stream stream = api.logs(user, id, null)) {
            List<V1Client.Event> events = stream.rest(WAIT);
            long ms = (System.nanoTime() - start) / 1_000_000;
            assertEquals(
                    List.of("status", "end"),
                    events.stream().map(V1Client.Event::kind).toList());
            assertEquals(
                    "{\"status\":\"FINISHED_WITH_ERRORS\",\"code\":400}",
                    events.get(1).data());
            assertNull(events.get(1).id());
            assertTrue(ms >= 2500 && ms < 6000, "ended after " + ms + " ms");
        }
    }

    @Test
    void unknownTasksAre404JsonNotAStream() throws Exception {
        String user = newUser();
        api.createTask(user);
        HttpResponse<byte[]> r = api.get(user, "/v1/tasks/" + UUID.randomUUID() + "/logs");
        assertEquals(404, r.statusCode());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
        assertEquals(400, api.get(user, "/v1/tasks/nope/logs").statusCode());
    }
}
