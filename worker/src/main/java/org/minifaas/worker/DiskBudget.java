package org.minifaas.worker;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.minifaas.common.Threads;
import org.minifaas.worker.sandbox.Cancellation;

/**
 * The disk a step that runs the repository's own code (a package install and its scripts) may fill: the tree it
 * writes to is measured every {@link #EVERY} while the step runs and once more when it ends, and the step is stopped
 * (through its own {@link Cancellation}) once the tree holds more than the budget. Every file and directory counts
 * at least one 4 KiB block, so millions of empty files trip it as large ones do; no link is followed. Between two
 * measurements a step can write what the disk takes in that time beyond the budget.
 */
final class DiskBudget implements AutoCloseable {
    static final Duration EVERY = Duration.ofMillis(500);
    private static final long BLOCK = 4096;
    private static final ScheduledExecutorService MEASURER =
            Executors.newSingleThreadScheduledExecutor(Threads.daemon("disk-budget"));

    private final Path tree;
    private final long maxBytes;
    private final Cancellation stop;
    private final ScheduledFuture<?> measuring;
    private volatile boolean exceeded;

    /** Starts measuring {@code tree}; {@code stop} is cancelled once it holds more than {@code maxBytes}. */
    DiskBudget(Path tree, long maxBytes, Cancellation stop) {
        this.tree = tree;
        this.maxBytes = maxBytes;
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
        try {
            if (bytesUnder(tree, maxBytes) > maxBytes) {
                exceeded = true;
                stop.cancel();
            }
        } catch (IOException | RuntimeException e) {
            // the tree is being changed under the walk: measured again next time
        }
    }

    /**
     * The bytes the files and directories under {@code tree} take, each rounded up to whole 4 KiB blocks; stops
     * counting past {@code enough}.
     */
    static long bytesUnder(Path tree, long enough) throws IOException {
        long[] total = {0};
        Files.walkFileTree(tree, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                return add(attrs);
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                return add(attrs);
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) {
                return FileVisitResult.CONTINUE; // removed meanwhile, or unreadable to the worker: not counted
            }

            private FileVisitResult add(BasicFileAttributes attrs) {
                total[0] += Math.max(BLOCK, (attrs.size() + BLOCK - 1) / BLOCK * BLOCK);
                return total[0] > enough ? FileVisitResult.TERMINATE : FileVisitResult.CONTINUE;
            }
        });
        return total[0];
    }

    /** Stops measuring, after one last measurement (what the step wrote in its last moments counts too). */
    @Override
    public void close() {
        measuring.cancel(false);
        try {
            measure();
        } catch (RuntimeException e) {
            // kept as measured so far
        }
    }

    /** The bytes under {@code tree} now (tests). */
    static long bytesUnder(Path tree) throws IOException {
        try {
            return bytesUnder(tree, Long.MAX_VALUE);
        } catch (NoSuchFileException e) {
            return 0;
        }
    }
}
