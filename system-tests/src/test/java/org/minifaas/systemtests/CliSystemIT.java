package org.minifaas.systemtests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.minifaas.cli.Main;
import org.minifaas.common.Json;
import org.minifaas.common.testing.Poll;
import org.minifaas.common.testing.TestFiles;

/**
 * The {@code minifaas} command line client against the real stack: in-process through picocli for every command,
 * and once as the real launcher {@code bin/minifaas} in a terminal (tmux) for live output and Ctrl-C.
 */
class CliSystemIT {
    static Stack stack;

    /** Prints "first", sleeps 3 s, prints "second". */
    static final Map<String, String> PRINT_SLEEP_PRINT = Functions.program("""
            package main

            import (
            \t"fmt"
            \t"time"
            )

            func main() {
            \tfmt.Println("first")
            \ttime.Sleep(3 * time.Second)
            \tfmt.Println("second")
            }
            """);

    /** Says so on stderr and exits with 7. */
    static final Map<String, String> FAILS_WITH_7 = Functions.program("""
            package main

            import (
            \t"fmt"
            \t"os"
            )

            func main() {
            \tfmt.Println("before the failure")
            \tfmt.Fprintln(os.Stderr, "something went wrong")
            \tos.Exit(7)
            }
            """);

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

    /** A Writer keeping each completed line with the moment it was written. */
    static final class Lines extends Writer {
        record Line(String text, Instant at) {}

        private final StringBuilder all = new StringBuilder();
        private final StringBuilder current = new StringBuilder();
        private final List<Line> lines = new ArrayList<>();

        @Override
        public synchronized void write(char[] buf, int off, int len) {
            for (int i = off; i < off + len; i++) {
                all.append(buf[i]);
                if (buf[i] == '\n') {
                    lines.add(new Line(current.toString(), Instant.now()));
                    current.setLength(0);
                } else {
                    current.append(buf[i]);
                }
            }
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}

        synchronized String text() {
            return all.toString();
        }

        synchronized List<Line> lines() {
            return List.copyOf(lines);
        }
    }

    record Result(int code, String out, String err, Lines outLines) {}

    /** One user, its identity in the environment the CLI reads (MINIFAAS_URL, MINIFAAS_USER). */
    record User(String id) {
        Map<String, String> env() {
            return Map.of("MINIFAAS_URL", stack.base, "MINIFAAS_USER", id);
        }
    }

    static User newUser() {
        return new User("cli-" + UUID.randomUUID());
    }

    static Result cli(Map<String, String> env, String... args) {
        Lines out = new Lines();
        Lines err = new Lines();
        int code = Main.commandLine(env, new PrintWriter(out, true), new PrintWriter(err, true), false)
                .execute(args);
        return new Result(code, out.text(), err.text(), out);
    }

    static Result cli(User user, String... args) {
        return cli(user.env(), args);
    }

    static JsonNode record(User user, String id) throws Exception {
        Result r = cli(user, "status", id, "--json");
        assertEquals(0, r.code(), r.err());
        return Json.MAPPER.readTree(r.out());
    }

    static JsonNode waitFinal(User user, String id) throws Exception {
        return Poll.until(
                Duration.ofSeconds(90),
                () -> {
                    Result r = cli(user, "status", id, "--wait", "20", "--json");
                    assertEquals(0, r.code(), r.err());
                    return Json.MAPPER.readTree(r.out());
                },
                r -> !List.of("PENDING", "EXECUTING").contains(r.get("status").asText()),
                "task " + id + " to end");
    }

    static String repo(Map<String, String> files) throws Exception {
        return stack.git.createRepo("cli-" + UUID.randomUUID(), files);
    }

    /** run without --follow prints the id only, so that scripts can take it. */
    static String submit(User user, String url, String... args) {
        List<String> argv = new ArrayList<>(List.of("run", url));
        argv.addAll(List.of(args));
        Result r = cli(user, argv.toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
        String id = r.out().strip();
        assertTrue(id.matches("[0-9a-f-]{36}"), r.out());
        assertTrue(r.err().contains("minifaas logs -f " + id), r.err());
        return id;
    }

    @Test
    void runFollowPrintsLinesBeforeTheTaskEndsAndExitsZero() throws Exception {
        User user = newUser();
        String url = repo(PRINT_SLEEP_PRINT);
        Result r = cli(user, "run", url, "--follow");
        assertEquals(0, r.code(), r.err());
        List<Lines.Line> lines = r.outLines().lines();
        assertEquals(
                List.of("first", "second"), lines.stream().map(Lines.Line::text).toList(), r.out());
        Matcher m = Pattern.compile("\\[minifaas] task ([0-9a-f-]{36}) queued").matcher(r.err());
        assertTrue(m.find(), r.err());
        String id = m.group(1);
        for (String phase : List.of("cloning", "building", "running", "FINISHED, exit code 0")) {
            assertTrue(r.err().contains("[minifaas] " + phase + "\n"), phase + " in:\n" + r.err());
        }
        JsonNode record = record(user, id);
        assertEquals("FINISHED", record.get("status").asText());
        Instant finished = Instant.parse(record.get("finishedAt").asText());
        Instant first = lines.get(0).at();
        Instant second = lines.get(1).at();
        assertTrue(
                first.isBefore(finished.minusMillis(2000)),
                "the first line came live, ~3 s before the end: " + first + " vs finishedAt " + finished);
        assertTrue(Duration.between(first, second).toMillis() >= 2500, first + " then " + second);
    }

    @Test
    void aFailingFunctionsExitCodeIsTheCommandsAndItsStderrGoesToStderr() throws Exception {
        User user = newUser();
        Result r = cli(user, "run", repo(FAILS_WITH_7), "-f");
        assertEquals(7, r.code(), r.err());
        assertEquals("before the failure\n", r.out());
        assertTrue(r.err().contains("something went wrong\n"), r.err());
        assertTrue(r.err().contains("[minifaas] FINISHED_WITH_ERRORS, exit code 7"), r.err());

        // a build failure has no exit code of its own: 1
        Result broken = cli(user, "run", repo(Functions.program("package main\n\nfunc main() { nope }\n")), "-f", "-q");
        assertEquals(1, broken.code(), broken.err());
        assertFalse(broken.err().contains("[minifaas]"), "quiet: " + broken.err());
    }

    @Test
    void statusListLogsAndResultOfFinishedTasks() throws Exception {
        User user = newUser();
        String url = repo(Functions.says("hello"));
        String a = submit(user, url, "a", "b c");
        String b = submit(user, url, "--ref", "main", "--timeout", "10", "--runtime", "go", "--", "-x");
        String c = submit(user, url, "third");
        for (String id : List.of(a, b, c)) {
            assertEquals("FINISHED", waitFinal(user, id).get("status").asText());
        }
        JsonNode rb = record(user, b);
        assertEquals("-x", rb.get("parameters").get(0).asText());
        assertEquals("main", rb.get("ref").asText());
        assertEquals(10, rb.get("timeoutSeconds").asInt());
        assertEquals("go", rb.get("runtime").asText());
        assertTrue(rb.get("toolchain").asText().startsWith("go1."), rb.toString());

        Result status = cli(user, "status", a);
        assertEquals(0, status.code(), status.err());
        assertTrue(status.out().contains("status:     FINISHED (300)\n"), status.out());
        assertTrue(status.out().contains("parameters: a b c\n"), status.out());
        assertTrue(status.out().contains("exit code:  0\n"), status.out());
        assertTrue(status.out().contains("runtime:    go1."), status.out());
        assertTrue(status.out().startsWith("id:         " + a + "\n"), status.out());

        Result list = cli(user, "list");
        assertEquals(0, list.code(), list.err());
        String[] rows = list.out().split("\n");
        assertTrue(rows[0].startsWith("ID "), list.out());
        assertEquals(4, rows.length, list.out());
        assertTrue(
                rows[1].startsWith(c) && rows[2].startsWith(b) && rows[3].startsWith(a),
                "newest first:\n" + list.out());
        assertTrue(rows[1].contains("FINISHED") && rows[1].endsWith(url), rows[1]);

        // following nextCursor, page by page, up to --limit
        Result paged = cli(user, "list", "--limit", "2", "--page-size", "1", "--json", "--status", "FINISHED");
        assertEquals(0, paged.code(), paged.err());
        JsonNode two = Json.MAPPER.readTree(paged.out());
        assertEquals(2, two.size());
        assertEquals(c, two.get(0).get("id").asText());
        assertEquals(b, two.get(1).get("id").asText());
        Result none = cli(user, "list", "--status", "CANCELLED");
        assertEquals(1, none.out().split("\n").length, none.out());

        Result logs = cli(user, "logs", a);
        assertEquals(0, logs.code(), logs.err());
        assertEquals("hello [a b c]\n", logs.out());
        Result logsFollow = cli(user, "logs", "-f", a, "--json");
        assertEquals(0, logsFollow.code(), logsFollow.err());
        List<String> events = new ArrayList<>();
        for (String line : logsFollow.out().split("\n")) {
            events.add(Json.MAPPER.readTree(line).get("event").asText());
        }
        assertTrue(events.contains("stdout") && events.get(events.size() - 1).equals("end"), logsFollow.out());

        Path dir = Files.createTempDirectory("cli-result-");
        try {
            Result result = cli(user, "result", a, "-o", dir.resolve("out").toString());
            assertEquals(0, result.code(), result.err());
            assertEquals("hello [a b c]\n", Files.readString(dir.resolve("out/stdout.txt")));
            assertTrue(result.out().contains("stdout.txt"), result.out());
        } finally {
            TestFiles.deleteTree(dir);
        }
    }

    @Test
    void cancelKillsARunningTaskAndFollowingItExitsFour() throws Exception {
        User user = newUser();
        String id = submit(user, repo(Functions.SLEEPER), "cli-cancel-" + UUID.randomUUID());
        Poll.until(
                Duration.ofSeconds(60),
                () -> record(user, id).get("status").asText(),
                "EXECUTING"::equals,
                "the sleeper to run");
        Result cancel = cli(user, "cancel", id);
        assertEquals(0, cancel.code(), cancel.err());
        assertEquals("cancelling " + id + ": its worker is stopping it\n", cancel.out());
        Result follow = cli(user, "logs", "-f", id);
        assertEquals(4, follow.code(), follow.err());
        assertEquals("CANCELLED", waitFinal(user, id).get("status").asText());
        Result again = cli(user, "cancel", id);
        assertEquals(5, again.code());
        assertEquals(1, again.err().strip().split("\n").length, again.err());
        assertTrue(again.err().contains("(HTTP 409)"), again.err());
    }

    @Test
    void adminStatusAndInjectNeedAnAdminEmail() throws Exception {
        Map<String, String> admin = new HashMap<>(newUser().env());
        Result status = cli(admin, "admin", "status", "--email", "admin@example.com");
        assertEquals(0, status.code(), status.err());
        assertTrue(status.out().startsWith("status:   "), status.out());
        Result json = cli(admin, "admin", "status", "--email", "admin@example.com", "--json");
        assertTrue(Json.MAPPER.readTree(json.out()).has("live_workers"), json.out());

        Path file = Files.createTempFile("cli-inject-", ".json");
        try {
            Files.writeString(file, "{\"k\": 1}");
            Result inject = cli(admin, "admin", "inject", file.toString(), "--email", "admin@example.com");
            assertEquals(0, inject.code(), inject.err());
            assertEquals("injected " + file.getFileName() + "\n", inject.out());
            Result refused = cli(admin, "admin", "inject", file.toString(), "--email", "someone@example.com");
            assertEquals(5, refused.code());
            assertTrue(refused.err().contains("HTTP 403"), refused.err());
            assertEquals(1, refused.err().strip().split("\n").length, refused.err());
        } finally {
            Files.deleteIfExists(file);
        }
        admin.put("MINIFAAS_EMAIL", "admin@example.com"); // the environment works as the flag does
        assertEquals(0, cli(admin, "admin", "status").code());
    }

    @Test
    void errorsAreOneLineWithTheirExitCode() {
        User user = newUser();
        Result unknown = cli(user, "status", UUID.randomUUID().toString());
        assertEquals(5, unknown.code());
        assertEquals("", unknown.out());
        assertEquals(1, unknown.err().strip().split("\n").length, unknown.err());
        assertTrue(unknown.err().startsWith("minifaas: ") && unknown.err().contains("HTTP 404"), unknown.err());

        Result notAnId = cli(user, "logs", "not-a-uuid");
        assertEquals(5, notAnId.code());
        assertTrue(notAnId.err().contains("HTTP 400"), notAnId.err());

        Result anonymous = cli(Map.of("MINIFAAS_URL", stack.base), "list");
        assertEquals(5, anonymous.code());
        assertTrue(anonymous.err().contains("HTTP 401"), anonymous.err());

        Result flags = cli(Map.of(), "list", "--server", stack.base, "--user", user.id());
        assertEquals(0, flags.code(), flags.err());

        Result noServer = cli(Map.of("MINIFAAS_URL", "http://127.0.0.1:1", "MINIFAAS_USER", "x"), "list");
        assertEquals(5, noServer.code());
        assertTrue(noServer.err().contains("cannot connect to http://127.0.0.1:1"), noServer.err());

        assertEquals(2, cli(user, "run").code(), "no URL: usage");
        assertEquals(2, cli(user, "nonsense").code());
        assertEquals(2, cli(user, "list", "--limit", "many").code());
    }

    @Test
    void everyCommandHasHelpAndCompletionIsGenerated() {
        for (String[] command : List.of(
                new String[] {"run"},
                new String[] {"status"},
                new String[] {"list"},
                new String[] {"logs"},
                new String[] {"result"},
                new String[] {"cancel"},
                new String[] {"admin"},
                new String[] {"admin", "status"},
                new String[] {"admin", "inject"},
                new String[] {"completion"})) {
            List<String> argv = new ArrayList<>(List.of(command));
            argv.add("--help");
            Result r = cli(Map.of(), argv.toArray(String[]::new));
            assertEquals(0, r.code(), String.join(" ", argv));
            assertTrue(r.out().startsWith("Usage: minifaas " + String.join(" ", command)), r.out());
        }
        Result completion = cli(Map.of(), "completion");
        assertEquals(0, completion.code());
        assertTrue(completion.out().contains("complete -F _complete_minifaas"), completion.out());
    }

    // ---- the real launcher in a real terminal ----

    static final Path LAUNCHER =
            Path.of("..", "bin", "minifaas").toAbsolutePath().normalize();
    static final Path JAR =
            Path.of("..", "cli", "target", "cli.jar").toAbsolutePath().normalize();

    static String tmux(String socket, String... args) throws IOException, InterruptedException {
        List<String> argv = new ArrayList<>(List.of("tmux", "-L", socket));
        argv.addAll(List.of(args));
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new AssertionError("tmux " + argv + " failed: " + out);
        }
        return out;
    }

    static String screen(String socket) throws IOException, InterruptedException {
        return tmux(socket, "capture-pane", "-p", "-J", "-S", "-500", "-t", "cli");
    }

    @Test
    void inATerminalRunFollowShowsLiveLinesAndCtrlCLeavesTheTaskRunning() throws Exception {
        assertTrue(Files.isRegularFile(JAR), JAR + " is built by the reactor before the system tests (make cli)");
        User user = newUser();
        String url = repo(Functions.TICKER);
        String socket = "minifaas-test-" + UUID.randomUUID().toString().substring(0, 8);
        try {
            tmux(socket, "new-session", "-d", "-x", "200", "-y", "50", "-s", "cli", "sh");
            String command = "MINIFAAS_URL=" + stack.base + " MINIFAAS_USER=" + user.id() + " " + LAUNCHER
                    + " run --follow " + url + " 200";
            tmux(socket, "send-keys", "-t", "cli", "-l", command);
            tmux(socket, "send-keys", "-t", "cli", "Enter");

            String live = Poll.until(
                    Duration.ofSeconds(90),
                    () -> screen(socket),
                    s -> s.contains("line 5\n"),
                    "live lines on the terminal");
            Matcher m =
                    Pattern.compile("\\[minifaas] task ([0-9a-f-]{36}) queued").matcher(live);
            assertTrue(m.find(), live);
            String id = m.group(1);
            assertTrue(live.contains("[minifaas] running"), live);
            assertEquals("EXECUTING", record(user, id).get("status").asText(), "lines came while it ran:\n" + live);

            tmux(socket, "send-keys", "-t", "cli", "C-c");
            String stopped = Poll.until(
                    Duration.ofSeconds(20),
                    () -> screen(socket),
                    s -> s.contains("Follow it again with: minifaas logs -f " + id),
                    "the Ctrl-C message");
            assertTrue(stopped.contains("Stopped following; the task keeps running."), stopped);
            tmux(socket, "send-keys", "-t", "cli", "-l", "echo EXIT=$?");
            tmux(socket, "send-keys", "-t", "cli", "Enter");
            String after = Poll.until(
                    Duration.ofSeconds(20),
                    () -> screen(socket),
                    s -> s.contains("EXIT=130"),
                    "exit status 130 after Ctrl-C");
            Files.writeString(Path.of("target", "cli-terminal.txt"), after); // what the user saw, for a failure

            assertEquals("EXECUTING", record(user, id).get("status").asText(), "Ctrl-C leaves the task running");
            JsonNode end = waitFinal(user, id);
            assertEquals("FINISHED", end.get("status").asText(), end.toString());
            Result logs = cli(user, "logs", id);
            assertTrue(logs.out().contains("line 199\n"), "the task ran to its end");
        } finally {
            try {
                tmux(socket, "kill-server");
            } catch (AssertionError | IOException e) {
                // already gone
            }
        }
    }
}
