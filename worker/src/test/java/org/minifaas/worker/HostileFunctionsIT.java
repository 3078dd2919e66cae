package org.minifaas.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.minifaas.worker.Fixture.awaitFinal;
import static org.minifaas.worker.Fixture.awaitStatus;
import static org.minifaas.worker.Fixture.results;
import static org.minifaas.worker.Fixture.submit;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.minifaas.common.model.TaskStatus;

/**
 * Each attack that worked against the per-account scheme, as a real Go function on a real worker: real
 * kernel namespaces and cgroups, real bubblewrap, real go. Every test fails without the sandbox.
 */
class HostileFunctionsIT {
    static final Duration LIMIT = Duration.ofSeconds(10);
    static final Duration WAIT = Duration.ofSeconds(120);
    static RunningWorker stack;

    @BeforeAll
    static void start() throws Exception {
        stack = RunningWorker.start("hostile-test", LIMIT, 2);
    }

    @AfterAll
    static void stop() throws Exception {
        stack.close();
    }

    @AfterEach
    void noTaskDirectoryIsLeft() throws Exception {
        stack.assertNoTaskDirectoryLeft();
    }

    String repo(String name, Map<String, String> files) throws Exception {
        return stack.git.createRepo(name + "-" + UUID.randomUUID(), files);
    }

    /** Runs a task through the queue to its end; its results. */
    Map<String, String> run(String url, TaskStatus expected, String... parameters) throws Exception {
        UUID id = submit(stack.nats, url, parameters);
        TaskStatus status = awaitFinal(stack.nats, id, WAIT);
        Map<String, String> files = results(stack.nats, id);
        assertEquals(expected, status, () -> "results: " + files);
        return files;
    }

    @Test
    void theFrontendAndNatsOnTheHostsLoopbackAreUnreachable() throws Exception {
        AtomicInteger accepted = new AtomicInteger();
        try (ServerSocket frontend = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread acceptor = new Thread(() -> {
                while (!frontend.isClosed()) {
                    try (Socket s = frontend.accept()) {
                        accepted.incrementAndGet();
                    } catch (IOException e) {
                        return;
                    }
                }
            });
            acceptor.setDaemon(true);
            acceptor.start();
            int natsPort = URI.create(stack.server.url()).getPort();
            List<String> targets = List.of(
                    "127.0.0.1:" + frontend.getLocalPort(),
                    "127.0.0.1:" + natsPort,
                    "localhost:" + frontend.getLocalPort(),
                    "169.254.169.254:80",
                    "10.0.0.1:80");
            String out = run(
                            repo("connect", HostileFunctions.CONNECT),
                            TaskStatus.FINISHED,
                            targets.toArray(String[]::new))
                    .get("stdout.txt");
            for (String target : targets) {
                assertTrue(out.contains(target + "=closed\n"), "reached " + target + ": " + out);
            }
            assertEquals(0, accepted.get(), "the stand-in frontend on the host's loopback was reached");
        }
    }

    @Test
    void plantsInTmpAndShmAreInvisibleToTheNextTaskAndGoneFromTheHost() throws Exception {
        String marker = "plant-" + UUID.randomUUID();
        String url = repo("plant", HostileFunctions.PLANT_AND_LOOK);
        assertEquals("planted\n", run(url, TaskStatus.FINISHED, "plant", marker).get("stdout.txt"));
        assertEquals("found=[]\n", run(url, TaskStatus.FINISHED, "look").get("stdout.txt"));
        stack.executor.awaitCleanup();
        for (Path dir : List.of(Path.of("/tmp"), Path.of("/dev/shm"), Path.of("/var/tmp"), stack.workDir)) {
            try (Stream<Path> s = Files.walk(dir, 6)) {
                List<Path> found = s.filter(p -> p.getFileName().toString().contains(marker))
                        .toList();
                assertEquals(List.of(), found, "a plant outlived its task on the host");
            } catch (java.io.UncheckedIOException ignored) {
                // a directory vanished during the walk: not ours
            }
        }
    }

    @Test
    void aConcurrentTasksProcessesAndHostPortsAreInvisible() throws Exception {
        String secret = "secret-" + UUID.randomUUID();
        String sleeper = repo("sleeper", HostileFunctions.SECRET_SLEEPER);
        String snoop = repo("snoop", HostileFunctions.SNOOP);
        run(snoop, TaskStatus.FINISHED); // compiled before, so that it runs while the sleeper sleeps
        UUID sleeping = submit(stack.nats, sleeper, "4", secret);
        awaitStatus(stack.nats, sleeping, TaskStatus.EXECUTING, WAIT);
        String out = run(snoop, TaskStatus.FINISHED).get("stdout.txt");
        assertEquals(TaskStatus.FINISHED, awaitFinal(stack.nats, sleeping, WAIT));
        assertFalse(out.contains(secret), "another task's parameters were visible: " + out);
        int natsPort = URI.create(stack.server.url()).getPort();
        String natsHex = String.format(":%04X", natsPort);
        assertFalse(out.contains(natsHex), "the host's listening ports were visible: " + out);
        int processes =
                Integer.parseInt(out.substring(out.indexOf("processes=") + 10).trim());
        assertTrue(processes <= 3, "more than its own processes visible: " + out);
    }

    @Test
    void allocatingTwoGibEndsWithTheMemoryReasonAndTheWorkerCarriesOn() throws Exception {
        Map<String, String> files =
                run(repo("alloc", HostileFunctions.ALLOCATE), TaskStatus.FINISHED_WITH_ERRORS, "2048");
        assertTrue(files.get("error.txt").startsWith("memory limit reached: FUNCTION_MEMORY_MB=512"), files.toString());
        assertFalse(files.get("stdout.txt").contains("allocated"), files.toString());
        assertEquals(
                "0:next\n",
                run(repo("echo", Functions.ECHO), TaskStatus.FINISHED, "next").get("stdout.txt"));
    }

    @Test
    void aChildKilledForMemoryFailsTheTaskEvenWhenTheMainProcessSucceeds() throws Exception {
        assumeTrue(Fixture.isRoot(), "per-task memory cgroups need root (CI runs as root)");
        Map<String, String> files =
                run(repo("alloc-child", HostileFunctions.ALLOCATE), TaskStatus.FINISHED_WITH_ERRORS, "child", "2048");
        assertTrue(files.get("stdout.txt").startsWith("child ended: signal: killed"), files.toString());
        assertTrue(files.get("error.txt").startsWith("memory limit reached"), files.toString());
    }

    @Test
    void aForkWalkerAndADoubleForkedSessionDieWithTheTask() throws Exception {
        String url = repo("escape", HostileFunctions.ESCAPE);
        String walker = "walk-" + (100_000 + (long) (Math.random() * 800_000));
        run(url, TaskStatus.FINISHED, "walk", walker);
        assertEquals(List.of(), WorkerIT.hostProcessesWith(walker), "the fork walker outlived its task");
        String sleeper = Long.toString(600_000 + (long) (Math.random() * 300_000));
        assertEquals(
                "detached\n", run(url, TaskStatus.FINISHED, "detach", sleeper).get("stdout.txt"));
        assertEquals(List.of(), WorkerIT.hostProcessesWith(sleeper), "the double-forked sleeper outlived its task");
    }

    @Test
    void writingThreeGbToTmpFailsAndLeavesNothing() throws Exception {
        String marker = UUID.randomUUID().toString();
        String out = run(repo("fill", HostileFunctions.FILL_TMP), TaskStatus.FINISHED, "3072", marker)
                .get("stdout.txt");
        assertTrue(out.startsWith("write failed after 25"), "a 256 MB /tmp took more: " + out);
        assertTrue(out.contains("no space left on device"), out);
        stack.executor.awaitCleanup();
        try (Stream<Path> s = Files.walk(Path.of("/tmp"), 4)) {
            assertEquals(
                    List.of(),
                    s.filter(p -> p.getFileName().toString().endsWith(marker)).toList());
        } catch (java.io.UncheckedIOException ignored) {
            // a directory vanished during the walk: not ours
        }
    }

    @Test
    void aLinkerPlantedByAnEarlierFunctionNeverRuns() throws Exception {
        run(repo("plant-linker", HostileFunctions.PLANT_LINKER), TaskStatus.FINISHED);
        String cgo = repo("cgo-plant", HostileFunctions.CGO_LINKER_PLANT);
        Map<String, String> files = run(cgo, TaskStatus.FINISHED_WITH_ERRORS);
        assertTrue(files.get("error.txt").startsWith("compilation failed"), "cgo is off by default: " + files);
        assertFalse(files.toString().contains("PWNED"), files.toString());
    }
}
