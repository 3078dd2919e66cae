package org.minifaas.worker.sandbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.minifaas.common.testing.TestFiles;

/** The process runner on real processes, as the worker's own user (no sandbox). */
class ProcessRunnerTest {
    final Map<String, String> env = Map.of("PATH", "/usr/bin:/bin");
    final Path dir = Path.of(System.getProperty("java.io.tmpdir"));

    @Test
    void outputBeyondTheCapIsDroppedAndMarked() throws Exception {
        Outcome out = ProcessRunner.run(
                List.of("sh", "-c", "yes xxxxxxxxx | head -c 100000"), dir, env, Duration.ofSeconds(10), 1000);
        String stdout = new String(out.stdout(), StandardCharsets.UTF_8);
        assertEquals(0, out.exitCode());
        assertEquals("xxxxxxxxx\n".repeat(100), stdout.substring(0, 1000));
        assertTrue(
                stdout.substring(1000).startsWith("\n[output truncated: 99000 more bytes over the limit of 1000"),
                stdout.substring(1000));
    }

    @Test
    void exitCodeAndStderrAreKept() throws Exception {
        Outcome out =
                ProcessRunner.run(List.of("sh", "-c", "echo oops >&2; exit 7"), dir, env, Duration.ofSeconds(10), 1000);
        assertEquals(7, out.exitCode());
        assertFalse(out.timedOut());
        assertEquals("oops\n", new String(out.stderr(), StandardCharsets.UTF_8));
    }

    @Test
    void theEnvironmentIsOnlyWhatIsGiven() throws Exception {
        Outcome out = ProcessRunner.run(List.of("env"), dir, Map.of("ONLY", "this"), Duration.ofSeconds(10), 1000);
        assertEquals("ONLY=this\n", new String(out.stdout(), StandardCharsets.UTF_8));
    }

    @Test
    void backgroundChildrenDieWithTheCommandEvenWhenItExitsNormally() throws Exception {
        String marker = Long.toString(700_000 + (long) (Math.random() * 200_000));
        Outcome out = ProcessRunner.run(
                List.of("sh", "-c", "sleep " + marker + " >/dev/null 2>&1 & echo started"),
                dir,
                env,
                Duration.ofSeconds(10),
                1000);
        assertEquals("started\n", new String(out.stdout(), StandardCharsets.UTF_8));
        assertTrue(
                ProcessHandle.allProcesses()
                        .noneMatch(p -> p.info().commandLine().orElse("").contains(marker)),
                () -> "the background child survived: "
                        + ProcessHandle.allProcesses()
                                .filter(p -> p.info().commandLine().orElse("").contains(marker))
                                .map(p -> p.pid() + " " + p.info())
                                .toList());
    }

    @Test
    void timeoutKillsTheWholeGroup() throws Exception {
        long start = System.nanoTime();
        Outcome out =
                ProcessRunner.run(List.of("sh", "-c", "sleep 600 & sleep 600"), dir, env, Duration.ofMillis(500), 1000);
        assertTrue(out.timedOut());
        assertTrue(Duration.ofNanos(System.nanoTime() - start).toSeconds() < 10);
        assertTrue(ProcessHandle.allProcesses()
                .noneMatch(p -> p.info().commandLine().orElse("").equals("sleep 600")));
    }

    @Test
    void outputReachesTheListenerWhileTheCommandRuns() throws Exception {
        // the command waits for a file that the listener creates once it has seen the first line: without live
        // output, it would time out
        Path flag = Files.createTempDirectory("minifaas-listener-").resolve("seen");
        try {
            OutputListener listener = (stream, data, offset, length) -> {
                if (stream == OutputListener.Stream.STDOUT
                        && new String(data, offset, length, StandardCharsets.UTF_8).contains("ready")) {
                    try {
                        Files.createFile(flag);
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }
            };
            Outcome out = ProcessRunner.run(
                    List.of(
                            "sh",
                            "-c",
                            "echo ready; while [ ! -e \"$1\" ]; do sleep 0.02; done; " + "echo done",
                            "sh",
                            flag.toString()),
                    dir,
                    env,
                    Duration.ofSeconds(20),
                    1000,
                    true,
                    listener,
                    new Cancellation());
            assertFalse(out.timedOut());
            assertEquals(0, out.exitCode());
            assertEquals("ready\ndone\n", new String(out.stdout(), StandardCharsets.UTF_8));
        } finally {
            TestFiles.deleteTree(flag.getParent());
        }
    }

    @Test
    void aCancellationKillsTheWholeGroupAtOnce() throws Exception {
        String marker = Long.toString(600_000 + (long) (Math.random() * 90_000));
        Cancellation cancellation = new Cancellation();
        OutputListener cancelOnStart = (stream, data, offset, length) -> cancellation.cancel();
        long start = System.nanoTime();
        Outcome out = ProcessRunner.run(
                List.of("sh", "-c", "sleep " + marker + " & echo started; sleep " + marker),
                dir,
                env,
                Duration.ofSeconds(60),
                1000,
                true,
                cancelOnStart,
                cancellation);
        assertTrue(out.cancelled());
        assertFalse(out.timedOut());
        assertEquals(-1, out.exitCode());
        assertEquals("started\n", new String(out.stdout(), StandardCharsets.UTF_8));
        assertTrue(Duration.ofNanos(System.nanoTime() - start).toMillis() < 2_000);
        assertTrue(
                ProcessHandle.allProcesses()
                        .noneMatch(p ->
                                p.info().commandLine().orElse("").contains(marker) && p.isAlive() && !zombie(p.pid())),
                "a process of the cancelled command survived");
    }

    @Test
    void aCancelledCommandDoesNotStart() throws Exception {
        Path marker = Files.createTempDirectory("minifaas-cancelled-").resolve("ran");
        Cancellation cancellation = new Cancellation();
        cancellation.cancel();
        Outcome out = ProcessRunner.run(
                List.of("touch", marker.toString()),
                dir,
                env,
                Duration.ofSeconds(10),
                1000,
                true,
                OutputListener.NONE,
                cancellation);
        assertTrue(out.cancelled());
        assertFalse(Files.exists(marker));
        TestFiles.deleteTree(marker.getParent());
    }

    static boolean zombie(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            return stat.charAt(stat.lastIndexOf(')') + 2) == 'Z';
        } catch (java.io.IOException e) {
            return true;
        }
    }
}
