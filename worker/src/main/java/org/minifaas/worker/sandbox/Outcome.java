package org.minifaas.worker.sandbox;

import java.time.Duration;

/**
 * How a sandboxed command ended and what it printed.
 *
 * @param exitCode    its exit status (-1 when timed out or cancelled)
 * @param timedOut    its time was up and everything in its sandbox was killed
 * @param outOfMemory a process of its sandbox (any, not only the first) was killed or failed for memory
 * @param cancelled   its task was cancelled while it ran, and everything in its sandbox was killed
 */
public record Outcome(
        int exitCode,
        boolean timedOut,
        boolean outOfMemory,
        byte[] stdout,
        byte[] stderr,
        Duration elapsed,
        boolean cancelled) {}
