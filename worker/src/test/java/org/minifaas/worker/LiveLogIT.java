package org.minifaas.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.minifaas.common.model.TaskStatus;
import org.minifaas.common.nats.NatsLayer;
import org.minifaas.common.nats.TaskLogs;
import org.minifaas.common.nats.TaskLogs.Event;
import org.minifaas.common.nats.TaskLogs.Kind;
import org.minifaas.common.testing.NatsTestServer;
import org.minifaas.worker.sandbox.OutputListener;

/** Live task logs on a real nats-server: the publisher's lines, and a real function's output while it runs. */
class LiveLogIT {
    static final Duration WAIT = Duration.ofSeconds(90);
    static RunningWorker stack;

    @BeforeAll
    static void start() throws Exception {
        stack = RunningWorker.start("live-log-test", Duration.ofSeconds(10), 1);
    }

    @AfterAll
    static void stop() throws Exception {
        stack.close();
    }

    @AfterEach
    void noTaskDirectoryIsLeft() throws Exception {
        stack.assertNoTaskDirectoryLeft();
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static void print(OutputListener listener, OutputListener.Stream stream, String text) {
        byte[] b = bytes(text);
        listener.output(stream, b, 0, b.length);
    }

    /** The events of a task's log until {@code count} arrived or none came for a second. */
    static List<Event> events(UUID id, int count) throws Exception {
        List<Event> out = new ArrayList<>();
        try (TaskLogs.Reader reader = stack.nats.logs().reader(id, 0)) {
            Event e;
            while (out.size() < count && (e = reader.next(Duration.ofSeconds(1))) != null) {
                out.add(e);
            }
        }
        return out;
    }

    /** The lines of the events of one kind, in order. */
    static List<String> lines(List<Event> events, Kind kind) {
        return events.stream()
                .filter(e -> e.kind() == kind)
                .flatMap(e -> Arrays.stream(e.data().split("\n", -1)))
                .toList();
    }

    @Test
    void linesAreWholeInOrderAndGroupedWithPhasesBetween() throws Exception {
        UUID id = UUID.randomUUID();
        try (LiveLog live = LiveLog.start(stack.nats.logs(), id, 1 << 20)) {
            live.phase("building");
            OutputListener build = live.buildOutput();
            print(build, OutputListener.Stream.STDOUT, "go: downloading\n");
            print(build, OutputListener.Stream.STDERR, "compiling\n");
            live.phase("running");
            OutputListener run = live.runOutput();
            print(run, OutputListener.Stream.STDOUT, "a\r\nb\n\nc");
            print(run, OutputListener.Stream.STDERR, "oops\n");
            print(run, OutputListener.Stream.STDOUT, "d\nwithout newline");
        }
        List<Event> events = events(id, 100);
        assertEquals(List.of("a", "b", "", "cd", "without newline"), lines(events, Kind.STDOUT));
        assertEquals(List.of("go: downloading", "compiling", "oops"), lines(events, Kind.STDERR));
        List<String> order = events.stream()
                .map(e -> e.kind() == Kind.STATUS ? e.data() : e.kind().name())
                .collect(Collectors.toList());
        assertTrue(order.get(0).contains("\"phase\":\"building\""), order::toString);
        assertEquals("STDERR", order.get(1), order::toString);
        assertTrue(order.get(2).contains("\"phase\":\"running\""), order::toString);
        assertTrue(order.get(2).contains("\"status\":\"EXECUTING\""), order::toString);
    }

    @Test
    void aLineWithoutItsNewlineIsSentAfterAMoment() throws Exception {
        UUID id = UUID.randomUUID();
        try (LiveLog live = LiveLog.start(stack.nats.logs(), id, 1 << 20);
                TaskLogs.Reader reader = stack.nats.logs().reader(id, 0)) {
            OutputListener run = live.runOutput();
            long start = System.nanoTime();
            print(run, OutputListener.Stream.STDOUT, "Password: ");
            Event prompt = reader.next(Duration.ofSeconds(5));
            long waitedMs = (System.nanoTime() - start) / 1_000_000;
            assertNotNull(prompt, "the partial line was never sent");
            assertEquals("Password: ", prompt.data());
            assertTrue(waitedMs >= LiveLog.PARTIAL_LINE_MS - 10 && waitedMs < 1_000, waitedMs + " ms");

            start = System.nanoTime();
            print(run, OutputListener.Stream.STDOUT, "secret\n");
            Event line = reader.next(Duration.ofSeconds(5));
            assertEquals("secret", line.data());
            assertTrue(
                    (System.nanoTime() - start) / 1_000_000 < LiveLog.PARTIAL_LINE_MS,
                    "a whole line is sent at once, not after the partial-line wait");
        }
    }

    @Test
    void theLiveLogStopsAtItsCapWithOneNotice() throws Exception {
        UUID id = UUID.randomUUID();
        try (LiveLog live = LiveLog.start(stack.nats.logs(), id, 100)) {
            OutputListener run = live.runOutput();
            for (int i = 0; i < 50; i++) {
                print(run, OutputListener.Stream.STDOUT, "012345678\n"); // 10 bytes with the newline
            }
            print(run, OutputListener.Stream.STDERR, "after the cap\n");
        }
        List<Event> events = events(id, 100);
        assertEquals(10, lines(events, Kind.STDOUT).size(), events::toString);
        assertEquals(
                List.of("[live log truncated at 100 bytes; the result files have the full output]"),
                lines(events, Kind.STDERR));
    }

    @Test
    void bytesThatAreNotUtf8CountAsWhatIsPublished() throws Exception {
        UUID id = UUID.randomUUID();
        byte[] invalid = new byte[4096];
        java.util.Arrays.fill(invalid, (byte) 0xFF); // each becomes U+FFFD, 3 bytes, when published as text
        try (LiveLog live = LiveLog.start(stack.nats.logs(), id, 1000)) {
            OutputListener run = live.runOutput();
            run.output(OutputListener.Stream.STDOUT, invalid, 0, invalid.length);
            print(run, OutputListener.Stream.STDOUT, "\n");
        }
        List<Event> events = events(id, 100);
        long published = events.stream()
                .filter(e -> e.kind() == Kind.STDOUT)
                .mapToLong(e -> e.data().getBytes(StandardCharsets.UTF_8).length)
                .sum();
        assertTrue(published <= 1000, "published " + published + " bytes of output past a cap of 1000");
        assertEquals(1, lines(events, Kind.STDERR).size(), "the notice");
    }

    @Test
    void zeroBytesMeansPhasesOnly() throws Exception {
        UUID id = UUID.randomUUID();
        try (LiveLog live = LiveLog.start(stack.nats.logs(), id, 0)) {
            live.phase("running");
            print(live.runOutput(), OutputListener.Stream.STDOUT, "not published\n");
        }
        List<Event> events = events(id, 100);
        assertEquals(1, events.size(), events::toString);
        assertEquals(Kind.STATUS, events.get(0).kind());
    }

    @Test
    void aLongLineIsSplitIntoEventsOfWholeCharacters() throws Exception {
        UUID id = UUID.randomUUID();
        String line = "é".repeat(100_001); // 200,002 bytes: over three events, 'é' being two bytes
        try (LiveLog live = LiveLog.start(stack.nats.logs(), id, 1 << 20)) {
            OutputListener run = live.runOutput();
            byte[] b = bytes(line + "\n");
            for (int at = 0; at < b.length; at += 777) { // chunks that cut characters in two
                run.output(OutputListener.Stream.STDOUT, b, at, Math.min(777, b.length - at));
            }
        }
        List<Event> events = events(id, 100);
        assertTrue(events.size() >= 4, events.size() + " events");
        for (Event e : events) {
            assertTrue(bytes(e.data()).length <= TaskLogs.MAX_EVENT_BYTES);
            assertFalse(e.data().contains("\uFFFD"), "a character was cut in two");
        }
        assertEquals(line, events.stream().map(Event::data).collect(Collectors.joining()));
    }

    @Test
    void aNatsOutageCostsTheLogNeverTheTask() throws Exception {
        try (NatsTestServer server = NatsTestServer.start();
                NatsLayer nats = NatsLayer.connect(server.settings(), "live-log-outage")) {
            nats.logs().ensure();
            LiveLog live = LiveLog.start(nats.logs(), UUID.randomUUID(), 1 << 30);
            OutputListener run = live.runOutput();
            server.kill();
            long start = System.nanoTime();
            for (int i = 0; i < 20_000; i++) {
                print(run, OutputListener.Stream.STDOUT, "line " + i + " of a function that goes on printing\n");
                if (i % 1000 == 0) {
                    live.phase("running");
                }
            }
            live.close();
            long ms = (System.nanoTime() - start) / 1_000_000;
            assertTrue(ms < 5_000, "printing and closing took " + ms + " ms with NATS down");
        }
    }

    @Test
    void aFunctionsOutputIsSeenWhileItRuns() throws Exception {
        String url = stack.git.createRepo("ticker-" + UUID.randomUUID(), Functions.TICKER);
        UUID id = Fixture.submit(stack.nats, Fixture.task(url, null, 0, "15"));
        List<Event> events = new ArrayList<>();
        List<Long> latencies = new ArrayList<>();
        TaskStatus whenFirstLineArrived = null;
        try (TaskLogs.Reader reader = stack.nats.logs().reader(id, 0)) {
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (System.nanoTime() < deadline
                    && (events.isEmpty() || events.get(events.size() - 1).kind() != Kind.END)) {
                Event e = reader.next(Duration.ofSeconds(1));
                if (e == null) {
                    continue;
                }
                long now = System.currentTimeMillis();
                if (e.kind() == Kind.STDOUT) {
                    if (whenFirstLineArrived == null) {
                        whenFirstLineArrived = Fixture.status(stack.nats, id).orElseThrow();
                    }
                    for (String line : e.data().split("\n")) {
                        latencies.add(now - Long.parseLong(line.substring(line.lastIndexOf(' ') + 1)));
                    }
                }
                events.add(e);
            }
        }
        assertEquals(TaskStatus.EXECUTING, whenFirstLineArrived, "the first line came only after the end");
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 15; i++) {
            expected.add("line " + i + " at ");
        }
        assertEquals(
                expected,
                lines(events, Kind.STDOUT).stream()
                        .map(l -> l.substring(0, l.lastIndexOf(' ') + 1))
                        .toList());
        assertEquals(List.of("warning 0", "warning 5", "warning 10"), lines(events, Kind.STDERR));
        List<String> statuses = events.stream()
                .filter(e -> e.kind() == Kind.STATUS)
                .map(Event::data)
                .toList();
        assertTrue(statuses.get(0).contains("\"phase\":\"cloning\""), statuses::toString);
        assertTrue(statuses.get(1).contains("\"phase\":\"building\""), statuses::toString);
        assertTrue(statuses.get(2).contains("\"phase\":\"running\""), statuses::toString);
        assertTrue(statuses.get(3).contains("\"status\":\"FINISHED\""), statuses::toString);
        Event end = events.get(events.size() - 1);
        assertEquals(Kind.END, end.kind());
        assertTrue(end.data().contains("\"status\":\"FINISHED\""), end::toString);
        List<Long> sorted = latencies.stream().sorted().toList();
        assertTrue(sorted.get(sorted.size() / 2) < 50, "median latency of a line (ms): " + sorted);
    }
}
