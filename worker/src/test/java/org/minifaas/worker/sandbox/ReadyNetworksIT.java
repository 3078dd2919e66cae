package org.minifaas.worker.sandbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.minifaas.common.testing.Poll;
import org.minifaas.common.testing.TestFiles;

/**
 * Egress networks made ahead of the functions (EGRESS_READY_AHEAD), on a real kernel with real slirp4netns: each is
 * used by one command and ends with it, whatever the command left running; commands with other limits, and those
 * finding a helper dead, make their own; nothing waits on after the sandbox closes.
 */
class ReadyNetworksIT {
    static final Limits LIMITS = new Limits(128, 8, 64, 1, 1 << 20);
    static Path state;
    static Optional<RunAccount> account;
    static BubblewrapSandbox sandbox;
    static ReadyNetworks ready;

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(
                "root".equals(System.getProperty("user.name")),
                "egress (the firewall, the account switch) needs root (CI runs as root)");
        state = Files.createTempDirectory("minifaas-ready-networks-it-");
        Files.setPosixFilePermissions(state, PosixFilePermissions.fromString("rwx--x--x"));
        account = RunAccount.resolve("client");
        sandbox = BubblewrapSandbox.startWithEgress(state, account);
        assumeTrue(sandbox.egress(), "egress is not available here: " + sandbox.warnings());
        sandbox.keepNetworksReady(LIMITS, 1);
        ready = sandbox.readyNetworks().orElseThrow();
    }

    @AfterAll
    static void stop() throws Exception {
        if (sandbox != null) {
            sandbox.close();
            TestFiles.deleteTree(state);
        }
    }

    static Outcome run(String script, Limits limits) throws Exception {
        return run(sandbox, script, limits);
    }

    static Outcome run(BubblewrapSandbox in, String script, Limits limits) throws Exception {
        return in.run(new SandboxCommand(
                List.of("/bin/sh", "-c", script),
                account,
                List.of(),
                "/",
                Map.of("PATH", "/usr/bin:/bin"),
                Network.EGRESS,
                limits,
                Duration.ofSeconds(20),
                1 << 20));
    }

    static String out(Outcome o) {
        return new String(o.stdout(), StandardCharsets.UTF_8) + new String(o.stderr(), StandardCharsets.UTF_8);
    }

    /** The waiting network's helpers, once one waits. */
    static List<Long> waitingHelpers() throws Exception {
        return Poll.until(Duration.ofSeconds(20), ready::waitingPids, p -> p.size() == 2, "a network made ahead");
    }

    /** The egress run directories left under a sandbox's state directory. */
    static List<Path> runDirectories(Path stateDir) throws java.io.IOException {
        try (var runs = Files.list(stateDir.resolve("egress"))) {
            return runs.filter(p -> p.getFileName().toString().startsWith("run-"))
                    .toList();
        }
    }

    static boolean alive(long pid) {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }

    /** The command's network namespace, and whether slirp4netns's tap0 is in it. */
    static final String NETWORK = "readlink /proc/self/ns/net; grep -c tap0 /proc/net/dev; ";

    @Test
    void eachCommandGetsItsOwnNetworkMadeAheadWhichEndsWithIt() throws Exception {
        String marker = Long.toString(700_000 + (long) (Math.random() * 100_000));
        List<Long> first = waitingHelpers();
        long taken = ready.taken();
        // a hostile command leaves a process behind, detached, hoping to share the next function's network
        Outcome a = run(NETWORK + "setsid sleep " + marker + " >/dev/null 2>&1 & echo left", LIMITS);
        String[] aOut = out(a).split("\n");
        assertEquals(0, a.exitCode(), out(a));
        assertEquals("1", aOut[1], out(a));
        assertEquals(taken + 1, ready.taken(), "the command did not get the network made ahead");
        Poll.until(
                Duration.ofSeconds(10),
                () -> first.stream().anyMatch(ReadyNetworksIT::alive),
                up -> !up,
                "the helpers of the network used to end with its command");
        List<Long> second = waitingHelpers();
        assertTrue(second.stream().noneMatch(first::contains), first + " " + second);
        Outcome b = run(NETWORK, LIMITS);
        String[] bOut = out(b).split("\n");
        assertEquals("1", bOut[1], out(b));
        assertNotEquals(aOut[0], bOut[0], "two commands shared a network namespace");
        assertEquals(taken + 2, ready.taken());
        Poll.until(
                Duration.ofSeconds(10),
                () -> ProcessHandle.allProcesses()
                        .anyMatch(p -> p.info().commandLine().orElse("").contains(marker)),
                left -> !left,
                "the process the first command left to be killed");
    }

    @Test
    void commandsWithOtherLimitsMakeTheirOwn() throws Exception {
        List<Long> waiting = waitingHelpers();
        long taken = ready.taken();
        Outcome o = run(NETWORK, LIMITS.withMemoryMb(256));
        assertEquals("1", out(o).split("\n")[1], out(o));
        assertEquals(taken, ready.taken());
        assertTrue(waiting.stream().allMatch(ReadyNetworksIT::alive), "the waiting network was used or ended");
        assertEquals(waiting, ready.waitingPids());
    }

    @Test
    void aNetworkWhoseHelperDiedIsNotHandedOut() throws Exception {
        List<Long> waiting = waitingHelpers();
        long taken = ready.taken();
        long slirp = waiting.get(1);
        ProcessHandle.of(slirp).ifPresent(ProcessHandle::destroyForcibly);
        Poll.until(Duration.ofSeconds(10), () -> alive(slirp), up -> !up, "slirp4netns to die");
        Outcome o = run(NETWORK, LIMITS);
        assertEquals("1", out(o).split("\n")[1], "the command got no working network: " + out(o));
        assertEquals(taken, ready.taken());
        Poll.until(Duration.ofSeconds(10), () -> alive(waiting.get(0)), up -> !up, "the dead network's holder");
    }

    @Test
    void closingTheSandboxEndsTheNetworksWaiting() throws Exception {
        Path own = Files.createTempDirectory("minifaas-ready-networks-close-");
        Files.setPosixFilePermissions(own, PosixFilePermissions.fromString("rwx--x--x"));
        BubblewrapSandbox other = BubblewrapSandbox.startWithEgress(own, account);
        try {
            other.keepNetworksReady(LIMITS, 2);
            ReadyNetworks two = other.readyNetworks().orElseThrow();
            List<Long> helpers =
                    Poll.until(Duration.ofSeconds(20), two::waitingPids, p -> p.size() == 4, "two networks made ahead");
            other.close();
            Poll.until(
                    Duration.ofSeconds(10),
                    () -> helpers.stream().filter(ReadyNetworksIT::alive).toList(),
                    List::isEmpty,
                    "the waiting networks' helpers to end with the sandbox");
            Poll.until(
                    Duration.ofSeconds(10),
                    () -> runDirectories(own),
                    List::isEmpty,
                    "their run directories to be removed");
        } finally {
            other.close();
            TestFiles.deleteTree(own);
        }
    }

    @Test
    void aPoolThatCannotMakeNetworksLeavesEachRunToMakeItsOwnAndRecovers() throws Exception {
        Path own = Files.createTempDirectory("minifaas-ready-networks-failing-");
        Files.setPosixFilePermissions(own, PosixFilePermissions.fromString("rwx--x--x"));
        BubblewrapSandbox other = BubblewrapSandbox.startWithEgress(own, account);
        AtomicBoolean broken = new AtomicBoolean(true);
        try {
            // while broken, every helper the pool starts exits at once (as a missing or failing tool would)
            other.keepNetworksReady(
                    LIMITS, 1, group -> broken.get() ? List.of("/bin/false") : BubblewrapSandbox.join(group));
            ReadyNetworks pool = other.readyNetworks().orElseThrow();
            Poll.until(Duration.ofSeconds(20), pool::failing, f -> f, "the pool to fail");
            Outcome o = run(other, NETWORK, LIMITS);
            assertEquals("1", out(o).split("\n")[1], "the run made no network of its own: " + out(o));
            assertEquals(0, pool.taken());
            Poll.until(
                    Duration.ofSeconds(10),
                    () -> runDirectories(own),
                    List::isEmpty,
                    "the failed attempts' and the run's directories to be removed");

            broken.set(false);
            pool.take(LIMITS); // nothing waits; asks for another attempt, which now succeeds
            Poll.until(Duration.ofSeconds(20), pool::waitingPids, p -> p.size() == 2, "a network made ahead again");
            assertTrue(!pool.failing());
            Outcome again = run(other, NETWORK, LIMITS);
            assertEquals("1", out(again).split("\n")[1], out(again));
            assertEquals(1, pool.taken(), "the run did not get the network made ahead");
        } finally {
            other.close();
            TestFiles.deleteTree(own);
        }
    }
}
