package org.minifaas.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.minifaas.common.testing.Poll;
import org.minifaas.worker.sandbox.Cancellation;

class DiskBudgetTest {
    private static final long MIB = 1 << 20;

    @TempDir
    Path tree;

    private static void sh(Path dir, String script) throws Exception {
        Process p = new ProcessBuilder("bash", "-c", script)
                .directory(dir.toFile())
                .inheritIO()
                .start();
        assertEquals(0, p.waitFor(), script);
    }

    @Test
    void whatFilesTakeOnDiskAndEveryEntryCount() throws Exception {
        long empty = DiskBudget.bytesUnder(tree);
        Files.write(tree.resolve("data"), new byte[(int) (2 * MIB)]);
        assertTrue(DiskBudget.bytesUnder(tree) >= empty + 2 * MIB);
        long before = DiskBudget.bytesUnder(tree);
        Files.createDirectories(tree.resolve("many"));
        for (int i = 0; i < 1000; i++) {
            Files.createFile(tree.resolve("many/f" + i));
        }
        assertTrue(DiskBudget.bytesUnder(tree) >= before + 1000 * 4096L, "empty files count a block each");
        Files.createSymbolicLink(tree.resolve("link"), Path.of("/usr")); // not followed
        assertTrue(DiskBudget.bytesUnder(tree) < before + 1002 * 4096L + MIB);
        assertEquals(0, DiskBudget.bytesUnder(tree.resolve("gone")));
    }

    @Test
    void spaceReservedPastAFilesEndCounts() throws Exception {
        // fallocate --keep-size: the file's size stays 0, its blocks are taken
        sh(tree, "touch reserved && fallocate -n -l 8M reserved");
        assertEquals(0, Files.size(tree.resolve("reserved")));
        assertTrue(DiskBudget.bytesUnder(tree) >= 8 * MIB, "measured " + DiskBudget.bytesUnder(tree));
    }

    @Test
    void aTreeDeeperThanAPathCanNameIsMeasuredAndRemoved() throws Exception {
        // past PATH_MAX (4096): a walk by path names fails below, du walks by directory handles
        sh(
                tree,
                "mkdir deep && cd deep && i=0; while [ $i -lt 1500 ]; do mkdir dddd && cd dddd || exit 1; "
                        + "i=$((i+1)); done; head -c 4194304 /dev/zero > bottom");
        assertTrue(DiskBudget.bytesUnder(tree) >= 4 * MIB, "measured " + DiskBudget.bytesUnder(tree));
        TaskWorkspace.remove(tree.resolve("deep"));
        assertFalse(Files.exists(tree.resolve("deep")), "the deep tree was left on disk");
    }

    @Test
    void aTreeThatGrowsPastTheBudgetStopsItsStepButNotItsTask() throws Exception {
        Cancellation task = new Cancellation();
        Cancellation step = task.step();
        long budget = DiskBudget.bytesUnder(tree) + MIB;
        try (DiskBudget watch = new DiskBudget(tree, budget, 0, step)) {
            Files.write(tree.resolve("small"), new byte[1024]);
            Thread.sleep(DiskBudget.EVERY.toMillis() * 2); // two measurements under the budget: nothing happens
            assertFalse(step.isCancelled());
            Files.write(tree.resolve("large"), new byte[(int) (2 * MIB)]);
            Poll.until(Duration.ofSeconds(5), step::isCancelled, stopped -> stopped, "the step to be stopped");
            assertTrue(watch.exceeded());
        }
        assertFalse(task.isCancelled(), "the task itself goes on (to report why)");
    }

    @Test
    void whatTheStepWroteInItsLastMomentsIsMeasuredWhenItEnds() throws Exception {
        Cancellation step = new Cancellation();
        DiskBudget watch = new DiskBudget(tree, DiskBudget.bytesUnder(tree) + MIB, 0, step);
        Files.write(tree.resolve("large"), new byte[(int) (2 * MIB)]);
        watch.close(); // before the first periodic measurement
        assertTrue(watch.exceeded());
    }

    @Test
    void aDiskWithLessFreeThanTheFloorStopsTheStepWhateverItsOwnSize() throws Exception {
        Cancellation step = new Cancellation();
        long floor = tree.toFile().getUsableSpace() + (1L << 30); // more than this disk has free
        try (DiskBudget watch = new DiskBudget(tree, DiskBudget.bytesUnder(tree) + MIB, floor, step)) {
            Poll.until(Duration.ofSeconds(5), step::isCancelled, stopped -> stopped, "the step to be stopped");
            assertTrue(watch.exceeded());
        }
        Cancellation other = new Cancellation();
        DiskBudget unfloored = new DiskBudget(tree, DiskBudget.bytesUnder(tree) + MIB, 0, other);
        unfloored.close();
        assertFalse(unfloored.exceeded(), "a floor of 0 stops nothing");
    }

    @Test
    void cancellingTheTaskCancelsItsSteps() {
        Cancellation task = new Cancellation();
        Cancellation step = task.step();
        task.cancel();
        assertTrue(step.isCancelled());
    }
}
