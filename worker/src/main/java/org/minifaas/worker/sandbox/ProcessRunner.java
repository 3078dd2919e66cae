package org.minifaas.worker.sandbox;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Starts one process (never through a shell: each argument reaches the program as is) in a session
 * and process group of its own, with exactly the given environment, a time limit and capped output (also
 * handed, as it is read, to an {@link OutputListener}). When it ends, its time is up or its task is cancelled,
 * every descendant still known is killed, and with {@code killGroup} its whole process group too (what a
 * sandbox's PID namespace makes unnecessary: its end kills all inside, so a sandbox that ended by itself leaves no
 * descendant to look for).
 */
final class ProcessRunner {
    private ProcessRunner() {}

    static Outcome run(List<String> argv, Path dir, Map<String, String> env, Duration timeout, long outputCap)
            throws IOException, InterruptedException {
        return run(argv, dir, env, timeout, outputCap, true);
    }

    static Outcome run(
            List<String> argv, Path dir, Map<String, String> env, Duration timeout, long outputCap, boolean killGroup)
            throws IOException, InterruptedException {
        return run(argv, dir, env, timeout, outputCap, killGroup, OutputListener.NONE, new Cancellation());
    }

    static Outcome run(
            List<String> argv,
            Path dir,
            Map<String, String> env,
            Duration timeout,
            long outputCap,
            boolean killGroup,
            OutputListener output,
            Cancellation cancellation)
            throws IOException, InterruptedException {
        if (cancellation.isCancelled()) {
            return new Outcome(-1, false, false, new byte[0], new byte[0], Duration.ZERO, true, false); // never started
        }
        List<String> full = new ArrayList<>();
        full.add("setsid"); // leads a new process group: one signal to the group reaches its children
        full.addAll(argv);
        ProcessBuilder pb = new ProcessBuilder(full).directory(dir.toFile());
        pb.environment().clear();
        pb.environment().putAll(env);

        long start = System.nanoTime();
        Process process = pb.start();
        process.getOutputStream().close();
        Capture out = Capture.start(process.getInputStream(), outputCap, OutputListener.Stream.STDOUT, output);
        Capture err = Capture.start(process.getErrorStream(), outputCap, OutputListener.Stream.STDERR, output);
        boolean finished;
        try {
            // wakes at the process's end or at a cancellation, whichever comes first
            CompletableFuture.anyOf(process.onExit(), cancellation.signal())
                    .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException | ExecutionException e) {
            // time is up (onExit and the signal never fail)
        } finally {
            finished = !process.isAlive();
            if (finished && !killGroup) {
                // a sandbox that ended: its PID namespace ended with it, and took every process inside along; no
                // need to look for descendants (a walk of every process on the host, ~1 ms)
                process.waitFor();
            } else {
                kill(process, killGroup);
            }
        }
        Duration elapsed = Duration.ofNanos(System.nanoTime() - start);
        int exit = finished ? process.exitValue() : -1;
        boolean cancelled = !finished && cancellation.isCancelled();
        return new Outcome(exit, !finished && !cancelled, false, out.finish(), err.finish(), elapsed, cancelled, false);
    }

    /** Kills the command's descendants (and process group), then waits until they are gone. */
    private static void kill(Process process, boolean killGroup) throws InterruptedException {
        List<ProcessHandle> tree = new ArrayList<>(process.descendants().toList());
        if (killGroup) {
            try {
                // bash's builtin kill signals the whole group (negative pid); dash's cannot parse "-- -pid"
                new ProcessBuilder(
                                "bash", "-c", "kill -KILL -- -\"$1\" 2>/dev/null", "bash", Long.toString(process.pid()))
                        .redirectErrorStream(true)
                        .start()
                        .waitFor(5, TimeUnit.SECONDS);
            } catch (IOException e) {
                // fall through: the handles below are still killed one by one
            }
        }
        // Through handles only: Process.destroyForcibly() would also close the pipes the capture threads are
        // still draining, losing the end of the output.
        tree.forEach(ProcessHandle::destroyForcibly);
        process.toHandle().destroyForcibly();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (System.nanoTime() < deadline
                && (process.isAlive() || tree.stream().anyMatch(ProcessRunner::running))) {
            Thread.sleep(5);
        }
        process.waitFor(1, TimeUnit.SECONDS);
    }

    /**
     * Whether a process still runs: a zombie is dead, only waiting for its parent (after a sandbox's end, the
     * host's init) to reap it.
     */
    private static boolean running(ProcessHandle handle) {
        if (!handle.isAlive()) {
            return false;
        }
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(handle.pid()), "stat"));
            int end = stat.lastIndexOf(')');
            return end < 0 || end + 2 >= stat.length() || stat.charAt(end + 2) != 'Z';
        } catch (IOException e) {
            return false; // gone meanwhile
        }
    }

    /**
     * Reads a stream to its end, keeping at most {@code cap} bytes and counting the rest; hands every chunk read to
     * the listener as well.
     */
    private static final class Capture {
        private final ByteArrayOutputStream kept = new ByteArrayOutputStream();
        private final Thread thread;
        private final InputStream in;
        private final long cap;
        private final OutputListener.Stream stream;
        private final OutputListener listener;
        private long dropped;

        private Capture(InputStream in, long cap, OutputListener.Stream stream, OutputListener listener) {
            this.in = in;
            this.cap = cap;
            this.stream = stream;
            this.listener = listener;
            this.thread = new Thread(this::pump, "capture-" + stream.name().toLowerCase(Locale.ROOT));
            this.thread.setDaemon(true);
        }

        static Capture start(InputStream in, long cap, OutputListener.Stream stream, OutputListener listener) {
            Capture c = new Capture(in, cap, stream, listener);
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
                    try {
                        listener.output(stream, buf, 0, n);
                    } catch (RuntimeException e) {
                        // a listener's failure never costs the capture
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
                    kept.writeBytes(
                            ("\n[output truncated: " + dropped + " more bytes over the limit of " + cap + " bytes]\n")
                                    .getBytes(StandardCharsets.UTF_8));
                }
                return kept.toByteArray();
            }
        }
    }
}
