package org.minifaas.worker.sandbox;

import java.time.Duration;

/**
 * How a sandboxed command ended and what it printed.
 *
 * @param exitCode    its exit status (-1 when timed out or cancelled)
 * @param timedOut    its time was up and everything in its sandbox was killed
 * @param outOfMemory a process of its sandbox (any, not only the first) was killed or failed for memory
 * @param cancelled   its task was cancelled while it ran, and everything in its sandbox was killed
 * @param diskFull    it wrote more to disk than its step may (a package install), and everything in its sandbox was
 *                    killed
 */
public record Outcome(
        int exitCode,
        boolean timedOut,
        boolean outOfMemory,
        byte[] stdout,
        byte[] stderr,
        Duration elapsed,
        boolean cancelled,
        boolean diskFull) {
    /** As stopped for writing more than its disk budget (its own cancellation was the stop, not its task's). */
    public Outcome stoppedForDisk() {
        return new Outcome(-1, false, outOfMemory, stdout, stderr, elapsed, false, true);
    }
}
