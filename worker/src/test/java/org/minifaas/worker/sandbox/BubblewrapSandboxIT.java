package org.minifaas.worker.sandbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.minifaas.common.testing.TestFiles;

/** The sandbox itself, with shell commands: what a process inside can and cannot do (real bubblewrap, real kernel). */
class BubblewrapSandboxIT {
    static final Limits LIMITS = new Limits(128, 8, 64, 1, 1 << 20);
    static Path state;
    static Path writable;
    static Optional<RunAccount> account;
    static BubblewrapSandbox sandbox;

    @BeforeAll
    static void start() throws Exception {
        state = Files.createTempDirectory("minifaas-sandbox-it-");
        Files.setPosixFilePermissions(state, PosixFilePermissions.fromString("rwx--x--x"));
        boolean root = "root".equals(System.getProperty("user.name"));
        account = RunAccount.resolve(root ? "client" : "");
        writable = Files.createDirectory(state.resolve("writable"));
        if (account.isPresent()) {
            Files.setAttribute(writable, "unix:uid", account.get().uid());
        }
        sandbox = BubblewrapSandbox.start(state, account);
    }

    @AfterAll
    static void stop() throws Exception {
        sandbox.close();
        TestFiles.deleteTree(state);
    }

    static Outcome sh(String script) throws Exception {
        return sh(script, LIMITS, Duration.ofSeconds(20));
    }

    static Outcome sh(String script, Limits limits, Duration timeout) throws Exception {
        return sandbox.run(new SandboxCommand(
                List.of("/bin/sh", "-c", script),
                account,
                List.of(
                        Mount.writable(writable, "/task/out"),
                        Mount.readOnly(state.resolve("sandbox-etc"), "/task/ro")),
                "/task/out",
                Map.of("PATH", "/usr/bin:/bin"),
                Network.NONE,
                limits,
                timeout,
                1 << 20));
    }

    static String out(Outcome o) {
        return new String(o.stdout(), StandardCharsets.UTF_8) + new String(o.stderr(), StandardCharsets.UTF_8);
    }

    @Test
    void noCapabilitiesNoNewPrivilegesAndTheAccountsUid() throws Exception {
        Outcome o = sh("grep -E '^(CapEff|CapPrm|NoNewPrivs)' /proc/self/status; id -u");
        String text = out(o);
        assertTrue(text.contains("CapEff:\t0000000000000000"), text);
        assertTrue(text.contains("CapPrm:\t0000000000000000"), text);
        assertTrue(text.contains("NoNewPrivs:\t1"), text);
        account.ifPresent(a -> assertTrue(text.endsWith(a.uid() + "\n"), text));
    }

    @Test
    void theSystemIsReadOnlyAndOnlyTheCommandsMountsAreWritable() throws Exception {
        String text = out(sh("for f in /usr/planted /planted /etc/planted /task/ro/planted /tmp/ok /dev/shm/ok "
                + "/task/out/ok; do touch $f 2>/dev/null && echo \"$f=written\" || echo \"$f=refused\"; done"));
        assertEquals(
                "/usr/planted=refused\n/planted=refused\n/etc/planted=refused\n/task/ro/planted=refused\n"
                        + "/tmp/ok=written\n/dev/shm/ok=written\n/task/out/ok=written\n",
                text);
        assertTrue(Files.exists(writable.resolve("ok")));
        assertFalse(Files.exists(Path.of("/tmp/ok")), "the sandbox's /tmp is not the host's");
    }

    @Test
    void noHostAccountsNoNetworkButLoopbackNoNestedNamespaces() throws Exception {
        String text = out(sh("cut -d: -f1 /etc/passwd | tr '\\n' ' '; echo; tail -n +3 /proc/net/dev | cut -d: -f1 "
                + "| tr -d ' '; hostname; unshare -U true 2>/dev/null && echo nested=yes || echo nested=no"));
        assertEquals("root nobody \nlo\nminifaas\nnested=no\n", text);
    }

    @Test
    void filesLargerThanTheLimitCannotBeWritten() throws Exception {
        Outcome o = sh("head -c 3000000 /dev/zero > /task/out/big; echo $?");
        assertNotEquals("0\n", new String(o.stdout(), StandardCharsets.UTF_8));
        assertEquals(1 << 20, Files.size(writable.resolve("big")));
    }

    @Test
    void tmpIsCappedAtItsSize() throws Exception {
        String text = out(sh("head -c 20000000 /dev/zero > /tmp/fill 2>/dev/null; du -k /tmp/fill | cut -f1"));
        assertTrue(Integer.parseInt(text.trim()) <= 8 * 1024, text);
    }

    @Test
    void noFileGrowsPastTheFileSizeLimitAnywhere() throws Exception {
        // LIMITS allows 1 MiB per file: a function writing 3 MiB, on the task's directory and on its /tmp, is stopped
        // at the limit (SIGXFSZ), in a child process too
        Outcome o = sh("for f in /task/out/big /tmp/big; do head -c 3145728 /dev/zero > $f; echo \"$?\"; "
                + "wc -c < $f; done; sh -c 'head -c 3145728 /dev/zero > /task/out/child'; wc -c < /task/out/child");
        String text = new String(o.stdout(), StandardCharsets.UTF_8);
        String[] lines = text.trim().split("\n");
        assertEquals(5, lines.length, text);
        for (int i : new int[] {0, 2}) {
            assertNotEquals("0", lines[i].trim(), "a write past the limit succeeded: " + text);
        }
        for (int i : new int[] {1, 3, 4}) {
            assertEquals(1 << 20, Long.parseLong(lines[i].trim()), text);
        }
    }

    @Test
    void everythingInTheSandboxDiesWhenItsTimeIsUp() throws Exception {
        String marker = Long.toString(800_000 + (long) (Math.random() * 100_000));
        Outcome o = sh(
                "sleep " + marker + " & setsid sleep " + marker + " & sleep " + marker, LIMITS, Duration.ofMillis(700));
        assertTrue(o.timedOut());
        assertTrue(
                ProcessHandle.allProcesses()
                        .noneMatch(p -> p.info().commandLine().orElse("").contains(marker)),
                "a process of the sandbox survived it");
    }

    @Test
    void outOfMemoryKillsAreReportedEvenWhenTheCommandSucceeds() throws Exception {
        assumeTrue(account.isPresent(), "per-command memory cgroups need root (CI runs as root)");
        Outcome o = sh("head -c 400000000 /dev/zero | tail -n 1 >/dev/null; exit 0");
        assertEquals(0, o.exitCode());
        assertTrue(o.outOfMemory(), out(o));
        assertFalse(sh("true").outOfMemory());
    }

    @Test
    void cpuTimeIsLimitedToTheQuota() throws Exception {
        assumeTrue(account.isPresent(), "per-command cpu cgroups need root (CI runs as root)");
        // two busy loops for 2 s of wall time: their CPU time (cutime + cstime, in ticks of 10 ms) stays near
        // 1 CPU x 2 s under FUNCTION_CPUS=1, where two free cores would give ~4 s
        Outcome o = sh("for i in 1 2; do timeout 2 sh -c 'while :; do :; done' & done; wait; "
                + "cut -d' ' -f16,17 /proc/$$/stat");
        String[] ticks = new String(o.stdout(), StandardCharsets.UTF_8).trim().split(" ");
        long cpuTicks = Long.parseLong(ticks[0]) + Long.parseLong(ticks[1]);
        assertTrue(cpuTicks <= 270, "used " + cpuTicks + " ticks of CPU in 2 s");
    }

    @Test
    void whereTheSysctlIsReadOnlyASeccompFilterRefusesNestedUserNamespaces() throws Exception {
        Path other = Files.createTempDirectory("minifaas-sandbox-filter-");
        Files.setPosixFilePermissions(other, PosixFilePermissions.fromString("rwx--x--x"));
        try (BubblewrapSandbox filtered = BubblewrapSandbox.start(other, account, false, true)) {
            assertTrue(
                    String.join(" ", filtered.describe()).contains("seccomp filter"),
                    filtered.describe().toString());
            Outcome o = filtered.run(new SandboxCommand(
                    List.of(
                            "/bin/sh",
                            "-c",
                            "unshare -U true 2>/dev/null && echo nested=yes || echo nested=no; "
                                    + "unshare -n true 2>/dev/null && echo net=yes || echo net=no; sh -c 'echo child'"),
                    account,
                    List.of(),
                    "/",
                    Map.of("PATH", "/usr/bin:/bin"),
                    Network.NONE,
                    LIMITS,
                    Duration.ofSeconds(20),
                    4096));
            assertEquals("nested=no\nnet=no\nchild\n", out(o));
        } finally {
            TestFiles.deleteTree(other);
        }
    }

    @Test
    void withoutCgroupsTheProcessLimitIsPerSandboxNotPerAccount() throws Exception {
        assumeTrue(account.isPresent(), "needs the run account (CI runs as root)");
        Path other = Files.createTempDirectory("minifaas-sandbox-rlimits-");
        Files.setPosixFilePermissions(other, PosixFilePermissions.fromString("rwx--x--x"));
        List<Process> others = new java.util.ArrayList<>();
        try (BubblewrapSandbox rlimits = BubblewrapSandbox.start(other, account, true, false)) {
            // other functions of the same account elsewhere on the host (other workers, other containers)
            for (int i = 0; i < 40; i++) {
                others.add(new ProcessBuilder(
                                "setpriv",
                                "--reuid=" + account.get().uid(),
                                "--regid=" + account.get().gid(),
                                "--clear-groups",
                                "--",
                                "sleep",
                                "60")
                        .start());
            }
            Limits thirtyTwo = new Limits(128, 8, 32, 1, 1 << 20);
            Outcome o = rlimits.run(new SandboxCommand(
                    List.of(
                            "/bin/sh",
                            "-c",
                            "i=0; while [ $i -lt 100 ]; do sleep 5 2>/dev/null & i=$((i+1)); done; "
                                    + "echo \"$(ls /proc | grep -c '^[0-9]')\" 2>/dev/null"),
                    account,
                    List.of(),
                    "/",
                    Map.of("PATH", "/usr/bin:/bin"),
                    Network.NONE,
                    thirtyTwo,
                    Duration.ofSeconds(20),
                    4096));
            String text = out(o);
            assertFalse(
                    text.contains("Creating new namespace failed"), "the account's other processes counted: " + text);
            assertTrue(o.stdout().length == 0 || Integer.parseInt(text.trim().split("\\s+")[0]) <= 33, text);
        } finally {
            others.forEach(Process::destroyForcibly);
            TestFiles.deleteTree(other);
        }
    }

    /** {@code argv} in {@code in}, with no mounts and no network, as the run account. */
    static Outcome runIn(BubblewrapSandbox in, List<String> argv, Limits limits) throws Exception {
        return in.run(new SandboxCommand(
                argv,
                account,
                List.of(),
                "/",
                Map.of("PATH", "/usr/bin:/bin"),
                Network.NONE,
                limits,
                Duration.ofSeconds(30),
                1 << 16));
    }

    @Test
    void withoutCgroupsARuntimeRefusedMemoryIsReportedAsTheMemoryLimit() throws Exception {
        Path other = Files.createTempDirectory("minifaas-sandbox-rlimits-");
        Files.setPosixFilePermissions(other, PosixFilePermissions.fromString("rwx--x--x"));
        try (BubblewrapSandbox rlimits = BubblewrapSandbox.start(other, account, true, false)) {
            Limits small = new Limits(256, 8, 64, 1, 1 << 20);
            Map<String, List<String>> programs = new java.util.LinkedHashMap<>();
            programs.put(
                    "/usr/bin/python3",
                    List.of("/usr/bin/python3", "-c", "x = [bytearray(64 << 20) for i in range(32)]"));
            programs.put(
                    "/usr/bin/node",
                    List.of(
                            "/usr/bin/node",
                            "-e",
                            "const a = []; for (let i = 0; i < 32; i++) a.push(Buffer.alloc(64 << 20, 1))"));
            int ran = 0;
            for (Map.Entry<String, List<String>> p : programs.entrySet()) {
                if (!Files.isExecutable(Path.of(p.getKey()))) {
                    continue;
                }
                Outcome o = runIn(rlimits, p.getValue(), small);
                assertNotEquals(0, o.exitCode(), p.getKey() + " allocated 2 GiB: " + out(o));
                assertTrue(o.outOfMemory(), p.getKey() + " was refused memory but not reported so: " + out(o));
                ran++;
            }
            assertTrue(ran >= 1, "python3 is always there");
            // a MemoryError handled, and the program ending well, is no memory limit
            Outcome handled = runIn(
                    rlimits,
                    List.of(
                            "/usr/bin/python3",
                            "-c",
                            "import sys, traceback\ntry:\n    x = bytearray(4 << 30)\nexcept MemoryError:\n"
                                    + "    traceback.print_exc()\nprint('smaller then')"),
                    small);
            assertEquals(0, handled.exitCode(), out(handled));
            assertTrue(out(handled).contains("MemoryError"), out(handled));
            assertFalse(handled.outOfMemory(), "a run that ended well was reported out of memory: " + out(handled));
        } finally {
            TestFiles.deleteTree(other);
        }
    }
}
