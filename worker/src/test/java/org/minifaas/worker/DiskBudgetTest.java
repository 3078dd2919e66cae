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
    @TempDir
    Path tree;

    @Test
    void everyEntryCountsAtLeastOneBlockAndSizesRoundUpToBlocks() throws Exception {
        assertEquals(4096, DiskBudget.bytesUnder(tree)); // the directory itself
        Files.write(tree.resolve("one-byte"), new byte[1]);
        Files.write(tree.resolve("a-block-and-one"), new byte[4097]);
        Files.createDirectories(tree.resolve("empty"));
        Files.createFile(tree.resolve("empty/nothing"));
        Files.createSymbolicLink(tree.resolve("link"), Path.of("/usr")); // not followed
        assertEquals(4096 * (1 + 1 + 2 + 1 + 1 + 1), DiskBudget.bytesUnder(tree));
        assertEquals(0, DiskBudget.bytesUnder(tree.resolve("gone")));
    }

    @Test
    void aTreeThatGrowsPastTheBudgetStopsItsStepButNotItsTask() throws Exception {
        Cancellation task = new Cancellation();
        Cancellation step = task.step();
        try (DiskBudget budget = new DiskBudget(tree, 64 * 1024, step)) {
            Files.write(tree.resolve("small"), new byte[1024]);
            Thread.sleep(DiskBudget.EVERY.toMillis() * 2); // two measurements under the budget: nothing happens
            assertFalse(step.isCancelled());
            Files.write(tree.resolve("large"), new byte[128 * 1024]);
            Poll.until(Duration.ofSeconds(5), step::isCancelled, stopped -> stopped, "the step to be stopped");
            assertTrue(budget.exceeded());
        }
        assertFalse(task.isCancelled(), "the task itself goes on (to report why)");
    }

    @Test
    void whatTheStepWroteInItsLastMomentsIsMeasuredWhenItEnds() throws Exception {
        Cancellation step = new Cancellation();
        DiskBudget budget = new DiskBudget(tree, 64 * 1024, step);
        Files.write(tree.resolve("large"), new byte[128 * 1024]);
        budget.close(); // before the first periodic measurement
        assertTrue(budget.exceeded());
    }

    @Test
    void cancellingTheTaskCancelsItsSteps() {
        Cancellation task = new Cancellation();
        Cancellation step = task.step();
        task.cancel();
        assertTrue(step.isCancelled());
    }
}
