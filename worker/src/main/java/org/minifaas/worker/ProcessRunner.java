package org.minifaas.worker;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Runs one command of a task: never through a shell (each argument reaches the program as is), in
 * a session and process group of its own, optionally as the low-privilege account, with a time
 * limit and capped output. When the command ends or its time is up, every process left in its
 * group, and every descendant still known, is killed: nothing of the task survives it.
 */
public final class ProcessRunner {
    private final Optional<RunAccount> account;
    private final Limits limits;

    /**
     * Kernel limits of every command (setrlimit, through util-linux's prlimit).
     *
     * @param maxProcesses  processes and threads the run account may have at once (RLIMIT_NPROC; it counts
     *                      all of that user's tasks together, so it is applied only with a dedicated account)
     * @param maxFileBytes  largest file a command may write (RLIMIT_FSIZE)
     */
    public record Limits(int maxProcesses, long maxFileBytes) {
    }

    public ProcessRunner(Optional<RunAccount> account, Limits limits) {
        this.account = account;
        this.limits = limits;
    }

    /** How a command ended and what it printed. */
    public record Outcome(int exitCode, boolean timedOut, byte[] stdout, byte[] stderr, Duration elapsed) {
    }

    public Outcome run(List<String> command, Path dir, Map<String, String> env, Duration timeout, long outputCap)
            throws IOException, InterruptedException {
        List<String> full = new ArrayList<>();
        // setsid: the command leads a new process group, so one signal to the group reaches its children.
        full.add("setsid");
        full.addAll(List.of("prlimit", "--fsize=" + limits.maxFileBytes()));
        if (account.isPresent()) {
            full.add("--nproc=" + limits.maxProcesses());
        }
        full.add("--");
        account.ifPresent(a -> full.addAll(List.of("setpriv", "--reuid=" + a.uid(), "--regid=" + a.gid(),
                "--clear-groups", "--")));
        full.addAll(command);
        ProcessBuilder pb = new ProcessBuilder(full).directory(dir.toFile());
        pb.environment().clear();
        pb.environment().putAll(env);

        long start = System.nanoTime();
        Process process;
        synchronized (SESSIONS) {
            process = pb.start();
            SESSIONS.add(process.pid()); // setsid: the pid is the session id of all the command may start
        }
        process.getOutputStream().close();
        Capture out = Capture.start(process.getInputStream(), outputCap, "stdout");
        Capture err = Capture.start(process.getErrorStream(), outputCap, "stderr");
        boolean finished;
        try {
            finished = process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } finally {
            killGroup(process);
            synchronized (SESSIONS) {
                SESSIONS.remove(process.pid());
                account.ifPresent(ProcessRunner::reapStrays);
            }
        }
        Duration elapsed = Duration.ofNanos(System.nanoTime() - start);
        int exit = finished ? process.exitValue() : -1;
        return new Outcome(exit, !finished, out.finish(), err.finish(), elapsed);
    }

    /** Sessions of the commands running in this worker process (their leaders' pids). */
    private static final Set<Long> SESSIONS = new HashSet<>();

    /**
     * Kills every process of the run account that belongs to no running command: what escaped its
     * command's process group (a new session, a double fork) and outlived it. The run account must be
     * dedicated to one worker process per host (each worker container has its own). Called with
     * {@link #SESSIONS} held, so a command being started is never taken for a stray.
     */
    static void reapStrays(RunAccount account) {
        for (int round = 0; round < 10; round++) {
            List<Long> strays = new ArrayList<>();
            File[] entries = new File("/proc").listFiles((d, name) -> name.chars().allMatch(Character::isDigit));
            if (entries == null) {
                return;
            }
            for (File entry : entries) {
                long pid = Long.parseLong(entry.getName());
                Long sid = sessionOfAccountProcess(entry.toPath(), account.uid());
                if (sid != null && !SESSIONS.contains(sid)) {
                    strays.add(pid);
                }
            }
            if (strays.isEmpty()) {
                return;
            }
            strays.forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
        }
    }

    /** The session id of a process whose real uid is {@code uid}, or null (another user, or gone). */
    private static Long sessionOfAccountProcess(Path proc, int uid) {
        try {
            String status = Files.readString(proc.resolve("status"));
            int at = status.indexOf("\nUid:");
            if (at < 0 || Integer.parseInt(status.substring(at + 5).trim().split("\\s+")[0]) != uid) {
                return null;
            }
            String stat = Files.readString(proc.resolve("stat"));
            // after the command name in parentheses: state ppid pgrp session ...
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            if (fields[0].equals("Z")) {
                return null; // already dead, waiting to be reaped by its new parent
            }
            return Long.parseLong(fields[3]);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** Kills the command's process group and any descendant that left it, then waits until they are gone. */
    static void killGroup(Process process) throws InterruptedException {
        List<ProcessHandle> tree = new ArrayList<>(process.descendants().toList());
        try {
            // bash's builtin kill signals the whole group (negative pid); dash's cannot parse "-- -pid"
            new ProcessBuilder("bash", "-c", "kill -KILL -- -\"$1\" 2>/dev/null", "bash", Long.toString(process.pid()))
                    .redirectErrorStream(true).start().waitFor(5, TimeUnit.SECONDS);
        } catch (IOException e) {
            // fall through: the handles below are still killed one by one
        }
        // Through handles only: Process.destroyForcibly() would also close the pipes the capture threads are
        // still draining, losing the end of the output.
        tree.forEach(ProcessHandle::destroyForcibly);
        process.toHandle().destroyForcibly();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (System.nanoTime() < deadline && (process.isAlive() || tree.stream().anyMatch(ProcessHandle::isAlive))) {
            Thread.sleep(10);
        }
        process.waitFor(1, TimeUnit.SECONDS);
    }

    /** Reads a stream to its end, keeping at most {@code cap} bytes and counting the rest. */
    private static final class Capture {
        private final ByteArrayOutputStream kept = new ByteArrayOutputStream();
        private final Thread thread;
        private final InputStream in;
        private final long cap;
        private long dropped;

        private Capture(InputStream in, long cap, String name) {
            this.in = in;
            this.cap = cap;
            this.thread = new Thread(this::pump, "capture-" + name);
            this.thread.setDaemon(true);
        }

        static Capture start(InputStream in, long cap, String name) {
            Capture c = new Capture(in, cap, name);
            c.thread.start();
            return c;
        }

        private void pump() {
            byte[] buf = new byte[8192];
            try {
                int n;
                while ((n = in.read(buf)) >= 0) {
                    synchronized (this) {
                        int keep = (int) Math.max(0, Math.min(n, cap - kept.size()));
                        kept.write(buf, 0, keep);
                        dropped += n - keep;
                    }
                }
            } catch (IOException e) {
                // stream closed under us: keep what was read
            }
        }

        byte[] finish() throws InterruptedException {
            thread.join(5_000);
            if (thread.isAlive()) {
                // a process outside our reach still holds the pipe: stop reading
                try {
                    in.close();
                } catch (IOException ignored) {
                    // nothing more to do
                }
                thread.join(1_000);
            }
            synchronized (this) {
                if (dropped > 0) {
                    kept.writeBytes(("\n[output truncated: " + dropped + " more bytes over the limit of "
                            + cap + " bytes]\n").getBytes(StandardCharsets.UTF_8));
                }
                return kept.toByteArray();
            }
        }
    }
}
