package org.minifaas.worker;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.minifaas.common.Threads;
import org.minifaas.worker.sandbox.Cancellation;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The disk a step that runs the repository's own code (a package install and its scripts) may fill. While the step
 * runs, every {@link #EVERY} and once more when it ends, the tree it writes to is measured by {@code du} (it walks by
 * directory handles: no depth escapes it, no link is followed, no other filesystem entered) as the bytes its files
 * take on disk (space reserved past a file's end included) plus 4 KiB per file or directory (a flood of empty files
 * counts too); the step is stopped (through its own {@link Cancellation}) once that is over the budget, or once the
 * filesystem has less than its free-space floor (INSTALL_MIN_FREE_MB) left (what no measurement of the tree sees: files deleted but still open).
 * A measurement, not a quota: between two, a step can write what the disk takes in that time.
 */
final class DiskBudget implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(DiskBudget.class);
    static final Duration EVERY = Duration.ofMillis(500);
    private static final long PER_ENTRY = 4096;
    // a few threads: one install's large tree must not delay the measurements of the others
    private static final ScheduledExecutorService MEASURER =
            Executors.newScheduledThreadPool(4, Threads.daemon("disk-budget"));

    private final Path tree;
    private final long maxBytes;
    private final long minFreeBytes;
    private final Cancellation stop;
    private final ScheduledFuture<?> measuring;
    private volatile boolean exceeded;
    private int failedMeasurements;

    /**
     * Starts measuring {@code tree}; {@code stop} is cancelled once it holds more than {@code maxBytes}, or once its
     * filesystem has less than {@code minFreeBytes} free, whatever the tree's own size.
     */
    DiskBudget(Path tree, long maxBytes, long minFreeBytes, Cancellation stop) {
        this.tree = tree;
        this.maxBytes = maxBytes;
        this.minFreeBytes = minFreeBytes;
        this.stop = stop;
        this.measuring = MEASURER.scheduleWithFixedDelay(
                this::measure, EVERY.toMillis(), EVERY.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Whether the tree went over the budget (measured one last time by {@link #close}). */
    boolean exceeded() {
        return exceeded;
    }

    private synchronized void measure() {
        if (exceeded) {
            return;
        }
        boolean over;
        try {
            // statvfs of the tree's filesystem (File's, which needs no lookup in the mount table)
            over = bytesUnder(tree) > maxBytes || tree.toFile().getUsableSpace() < minFreeBytes;
            failedMeasurements = 0;
        } catch (IOException e) {
            // not measurable twice in a row (and not gone): stopped, rather than left to fill the disk unseen
            failedMeasurements++;
            log.warn("the disk of {} could not be measured: {}", tree, e.toString());
            over = failedMeasurements >= 2 && Files.exists(tree, LinkOption.NOFOLLOW_LINKS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        if (over) {
            exceeded = true;
            stop.cancel();
        }
    }

    /**
     * The bytes the files and directories under {@code tree} take on disk, plus 4 KiB for each of them (0 when the
     * tree is gone).
     */
    static long bytesUnder(Path tree) throws IOException, InterruptedException {
        if (!Files.exists(tree, LinkOption.NOFOLLOW_LINKS)) {
            return 0;
        }
        return du(tree, "--block-size=1") + PER_ENTRY * du(tree, "--inodes");
    }

    /** {@code du -s -x} of the tree with one more option: its total, even when parts changed under it. */
    private static long du(Path tree, String option) throws IOException, InterruptedException {
        Process du = new ProcessBuilder("du", "-s", "-x", option, "--", tree.toString())
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
        // its one line of output fits the pipe: waited for first, so that a walk that hangs is cut off
        if (!du.waitFor(30, TimeUnit.SECONDS)) {
            du.destroyForcibly();
            throw new IOException("du took over 30 s under " + tree);
        }
        String out = new String(du.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        String[] fields = out.split("\\s+", 2);
        try {
            return Long.parseLong(fields[0]);
        } catch (NumberFormatException e) {
            throw new IOException("du measured nothing under " + tree + ": " + out);
        }
    }

    /** Stops measuring, after one last measurement (what the step wrote in its last moments counts too). */
    @Override
    public void close() {
        measuring.cancel(false);
        measure();
    }
}
