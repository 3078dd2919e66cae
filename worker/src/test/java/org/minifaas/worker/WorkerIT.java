package org.minifaas.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.minifaas.worker.Fixture.awaitFinal;
import static org.minifaas.worker.Fixture.results;
import static org.minifaas.worker.Fixture.submit;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.minifaas.common.model.TaskStatus;
import org.minifaas.common.testing.TestFiles;
import org.minifaas.worker.sandbox.RunAccount;

/** Real tasks: real nats-server, real Git over loopback HTTP, real go, the real low-privilege user. */
class WorkerIT {
    static final Duration LIMIT = Duration.ofSeconds(3);
    static final Duration WAIT = Duration.ofSeconds(90);
    static RunningWorker stack;

    @BeforeAll
    static void start() throws Exception {
        stack = RunningWorker.start("worker-test", LIMIT, 2);
    }

    @AfterAll
    static void stop() throws Exception {
        stack.close();
    }

    @AfterEach
    void noTaskDirectoryIsLeft() throws Exception {
        stack.assertNoTaskDirectoryLeft();
    }

    @Test
    void argumentsArePrintedAndTheZipHoldsThem() throws Exception {
        String url = stack.git.createRepo("echo-" + UUID.randomUUID(), Functions.ECHO);
        UUID id = submit(stack.nats, url, "hello", "world");
        assertEquals(TaskStatus.FINISHED, awaitFinal(stack.nats, id, WAIT));
        Map<String, String> files = results(stack.nats, id);
        assertEquals("0:hello\n1:world\n", files.get("stdout.txt"));
        assertEquals("", files.get("stderr.txt"));
        assertFalse(files.containsKey("error.txt"));
    }

    @Test
    void aSourceTreeIsCompiledOnlyOnce() throws Exception {
        String url = stack.git.createRepo("cached-" + UUID.randomUUID(), Functions.ECHO);
        UUID first = submit(stack.nats, url, "first");
        assertEquals(TaskStatus.FINISHED, awaitFinal(stack.nats, first, WAIT));

        // another worker on the same directory runs the tree compiled before without compiling it...
        TaskExecutor other = Fixture.executor(
                Fixture.config(stack.server.settings(), stack.workDir, LIMIT, Map.of("WORKER_CONCURRENCY", "1")));
        Map<String, String> sameTree = new java.util.HashMap<>(Functions.ECHO);
        String copy = stack.git.createRepo("cached-copy-" + UUID.randomUUID(), sameTree);
        Execution again = Fixture.execute(other, copy, "second");
        assertEquals(TaskStatus.FINISHED, again.status(), Fixture.text(again, "error.txt"));
        assertEquals("0:second\n", Fixture.text(again, "stdout.txt"));
        assertEquals(Boolean.TRUE, again.binaryCached());

        // ...but a different tree needs compiling
        Map<String, String> changed = new java.util.HashMap<>(Functions.ECHO);
        changed.put("README.md", "changed\n");
        String fresh = stack.git.createRepo("uncached-" + UUID.randomUUID(), changed);
        Execution compiled = Fixture.execute(other, fresh);
        assertEquals(TaskStatus.FINISHED, compiled.status(), Fixture.text(compiled, "error.txt"));
        assertEquals(Boolean.FALSE, compiled.binaryCached());
        other.awaitCleanup();
    }

    @Test
    void shellMetacharactersArriveLiterallyAndRunNothing() throws Exception {
        Path marker = Files.createTempDirectory("minifaas-marker-").resolve("pwned");
        String url = stack.git.createRepo("meta-" + UUID.randomUUID(), Functions.ECHO);
        List<String> params = List.of(
                "; touch " + marker,
                "$(touch " + marker + ")",
                "`touch " + marker + "`",
                "a b",
                "\"quoted\"",
                "'single'",
                "*",
                "",
                "| cat /etc/passwd",
                "&& echo x",
                "\\n");
        UUID id = submit(stack.nats, url, params.toArray(String[]::new));
        assertEquals(TaskStatus.FINISHED, awaitFinal(stack.nats, id, WAIT));
        StringBuilder expected = new StringBuilder();
        for (int i = 0; i < params.size(); i++) {
            expected.append(i).append(':').append(params.get(i)).append('\n');
        }
        assertEquals(expected.toString(), results(stack.nats, id).get("stdout.txt"));
        assertFalse(Files.exists(marker), "a parameter was executed by a shell");
        TestFiles.deleteTree(marker.getParent());
    }

    @Test
    void nonZeroExitKeepsStderrAndReportsTheCode() throws Exception {
        String url = stack.git.createRepo("exit3-" + UUID.randomUUID(), Functions.EXIT_3);
        UUID id = submit(stack.nats, url);
        assertEquals(TaskStatus.FINISHED_WITH_ERRORS, awaitFinal(stack.nats, id, WAIT));
        Map<String, String> files = results(stack.nats, id);
        assertEquals("before the failure\n", files.get("stdout.txt"));
        assertEquals("something went wrong\n", files.get("stderr.txt"));
        assertTrue(files.get("error.txt").matches("exit code 3\nruntime: go1\\.\\d+\\.\\d+\n"), files.get("error.txt"));
    }

    @Test
    void endlessFunctionIsKilledWithItsChildren() throws Exception {
        String marker = Long.toString(400_000 + (long) (Math.random() * 500_000));
        String url = stack.git.createRepo("endless-" + UUID.randomUUID(), Functions.ENDLESS_WITH_CHILD);
        UUID id = submit(stack.nats, url, marker);
        long start = System.nanoTime();
        assertEquals(TaskStatus.FINISHED_WITH_ERRORS, awaitFinal(stack.nats, id, WAIT));
        Map<String, String> files = results(stack.nats, id);
        assertTrue(files.get("error.txt").startsWith("timed out after 3 s\nruntime: go1."), files.get("error.txt"));
        assertEquals(2, files.get("stdout.txt").trim().split(" ").length, files.get("stdout.txt"));
        assertEquals(List.of(), hostProcessesWith(marker), "the function's child survived the time limit");
        assertTrue(Duration.ofNanos(System.nanoTime() - start).compareTo(LIMIT) >= 0);
    }

    @Test
    void aChildInASessionOfItsOwnDoesNotOutliveTheTask() throws Exception {
        String marker = Long.toString(300_000 + (long) (Math.random() * 90_000));
        String url = stack.git.createRepo("escape-" + UUID.randomUUID(), Functions.ESCAPE_TO_NEW_SESSION);
        UUID id = submit(stack.nats, url, marker);
        assertEquals(TaskStatus.FINISHED, awaitFinal(stack.nats, id, WAIT));
        assertEquals(List.of(), hostProcessesWith(marker), "the escaped child survived");
    }

    @Test
    void functionRunsAsTheLowPrivilegeUserAndSeesNoHostFiles() throws Exception {
        assumeTrue(Fixture.isRoot(), "switching users needs root (CI runs as root)");
        Path secretDir = Files.createTempDirectory("minifaas-secret-");
        Files.setPosixFilePermissions(secretDir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path secret = Files.writeString(secretDir.resolve("secret"), "readable by all on the host");
        Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rw-r--r--"));
        try {
            String url = stack.git.createRepo("whoami-" + UUID.randomUUID(), Functions.WHOAMI);
            UUID id = submit(stack.nats, url, secret.toString());
            assertEquals(TaskStatus.FINISHED, awaitFinal(stack.nats, id, WAIT));
            String out = results(stack.nats, id).get("stdout.txt");
            int clientUid = RunAccount.resolve("client").orElseThrow().uid();
            assertTrue(out.contains("uid=" + clientUid + "\n"), out);
            assertTrue(out.contains("secret=denied\n"), "a host file outside the sandbox was readable: " + out);
            assertTrue(out.contains("nats=\n"), "the worker's environment leaked: " + out);
            assertTrue(out.contains("home=/tmp\n"), out);
        } finally {
            TestFiles.deleteTree(secretDir);
        }
    }

    @Test
    void aTaskCannotStartUnboundedProcesses() throws Exception {
        assumeTrue(Fixture.isRoot(), "the pids cgroup needs root (CI runs as root)");
        TaskExecutor limited = Fixture.executor(Fixture.config(
                stack.server.settings(),
                stack.workDir,
                LIMIT,
                Map.of("FUNCTION_MAX_PROCESSES", "64", "WORKER_CONCURRENCY", "1")));
        String url = stack.git.createRepo("forks-" + UUID.randomUUID(), Functions.FORK_MANY);
        // compiled first by the shared worker, then run with the low limit
        assertEquals(TaskStatus.FINISHED, awaitFinal(stack.nats, submit(stack.nats, url, "0"), WAIT));
        Execution run = Fixture.execute(limited, url, "300");
        String out = new String(run.files().get("stdout.txt"));
        assertTrue(
                out.startsWith("started="),
                () -> run.status() + " " + new String(run.files().get("stderr.txt"))
                        + new String(run.files().getOrDefault("error.txt", new byte[0])));
        int started = Integer.parseInt(out.trim().substring("started=".length()));
        assertTrue(started < 64, out);
        limited.awaitCleanup();
        assertTrue(
                ProcessHandle.allProcesses()
                        .noneMatch(p -> p.info().commandLine().orElse("").equals("sleep 30")),
                "children of the function survived it");
    }

    @Test
    void functionsCannotTouchTheGoBuildCache() throws Exception {
        Path cache = Fixture.SHARED_CACHE.resolve("go-build");
        for (String target : List.of(cache.toString(), "/cache/go-build")) {
            String url = stack.git.createRepo("poison-" + UUID.randomUUID(), Functions.WRITE_INTO);
            UUID id = submit(stack.nats, url, target);
            assertEquals(TaskStatus.FINISHED, awaitFinal(stack.nats, id, WAIT));
            assertEquals("gocache=\nwrite=denied\n", results(stack.nats, id).get("stdout.txt"));
        }
        assertTrue(Files.isDirectory(cache.resolve("00")), "the worker warmed the cache");
        assertFalse(Files.exists(cache.resolve("poison")));
    }

    @Test
    void unreachableRepositoryFailsWithTheReason() throws Exception {
        UUID id = submit(stack.nats, "http://127.0.0.1:9/nothing-here.git");
        assertEquals(TaskStatus.FINISHED_WITH_ERRORS, awaitFinal(stack.nats, id, WAIT));
        assertEquals(
                "clone failed: repository not found or not reachable within 30 s: "
                        + "http://127.0.0.1:9/nothing-here.git\n",
                results(stack.nats, id).get("error.txt"));
    }

    @Test
    void missingRepositoryMainGoAndCompileErrorsAreReported() throws Exception {
        String missingUrl = stack.git.url("no-such-repo-" + UUID.randomUUID());
        UUID missing = submit(stack.nats, missingUrl);
        UUID noMain = submit(stack.nats, stack.git.createRepo("nomain-" + UUID.randomUUID(), Functions.NO_MAIN));
        UUID broken =
                submit(stack.nats, stack.git.createRepo("broken-" + UUID.randomUUID(), Functions.DOES_NOT_COMPILE));
        assertEquals(TaskStatus.FINISHED_WITH_ERRORS, awaitFinal(stack.nats, missing, WAIT));
        assertEquals(
                "clone failed: repository not found or not reachable within 30 s: " + missingUrl + "\n",
                results(stack.nats, missing).get("error.txt"));
        assertEquals(TaskStatus.FINISHED_WITH_ERRORS, awaitFinal(stack.nats, noMain, WAIT));
        assertEquals(
                "no function found: the repository root has no main.go (Go), package.json (Node.js) or main.py"
                        + " (Python)\n",
                results(stack.nats, noMain).get("error.txt"));
        assertEquals(TaskStatus.FINISHED_WITH_ERRORS, awaitFinal(stack.nats, broken, WAIT));
        assertTrue(results(stack.nats, broken).get("error.txt").startsWith("compilation failed with exit code "));
        assertTrue(results(stack.nats, broken).get("stderr.txt").contains("undefined"));
    }

    @Test
    void otherSchemesAreRefusedByTheWorkerToo() throws Exception {
        UUID id = submit(stack.nats, "file:///etc");
        assertEquals(TaskStatus.FINISHED_WITH_ERRORS, awaitFinal(stack.nats, id, WAIT));
        assertEquals(
                "clone failed: repository URL scheme 'file' is not allowed\n",
                results(stack.nats, id).get("error.txt"));
    }

    static String readOrEmpty(Path p) {
        try {
            return Files.readString(p);
        } catch (java.io.IOException e) {
            return "";
        }
    }

    /** A process that exists and is not a zombie (killed processes wait for their parent to reap them). */
    static boolean running(long pid) {
        String stat = readOrEmpty(Path.of("/proc/" + pid + "/stat"));
        return !stat.isEmpty() && stat.charAt(stat.lastIndexOf(')') + 2) != 'Z';
    }

    /** Live host processes whose command line contains {@code marker}. */
    static List<String> hostProcessesWith(String marker) {
        return ProcessHandle.allProcesses()
                .filter(p -> p.info().commandLine().orElse("").contains(marker) && running(p.pid()))
                .map(p -> p.pid() + " " + p.info().commandLine().orElse(""))
                .toList();
    }
}
