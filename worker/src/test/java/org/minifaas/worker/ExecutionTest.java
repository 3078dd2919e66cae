package org.minifaas.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.minifaas.common.model.TaskStatus;

/** Each wither of an execution changes what it names and keeps everything else. */
class ExecutionTest {
    private static String text(Execution e, String file) {
        return new String(e.files().get(file), StandardCharsets.UTF_8);
    }

    @Test
    void theFactsOfTheStepsThenTheExitCodeThenTheRuntime() {
        Execution e = Execution.finished("out".getBytes(StandardCharsets.UTF_8), new byte[0])
                .with("abc", 10L, 20L, 30L, true)
                .withExitCode(3)
                .withRuntime("go", "go1.23.5");
        assertEquals(
                new Execution(
                        TaskStatus.FINISHED,
                        e.files(),
                        "exit code 0",
                        "abc",
                        10L,
                        20L,
                        30L,
                        3,
                        true,
                        false,
                        "go",
                        "go1.23.5"),
                e);
        assertEquals("out", text(e, "stdout.txt"));
        assertEquals(2, e.files().size(), "no error.txt for a finished task");
    }

    @Test
    void aKnownCommitSkipsTheCloneAndStepsNotReachedStayUnknown() {
        Execution e =
                Execution.failed("no main.go").with(null, 5L, null, null, null).withoutClone();
        assertEquals(true, e.cloneSkipped());
        assertEquals(5L, e.cloneMs());
        assertNull(e.buildMs());
        assertNull(e.exitCode());
        assertNull(e.runtime());
    }

    @Test
    void aFailuresErrorFileNamesTheToolchainOnItsSecondLine() {
        Execution e = Execution.failed("build failed").withRuntime("go", "go1.19.8");
        assertEquals("build failed\nruntime: go1.19.8\n", text(e, "error.txt"));
        assertEquals("build failed", e.error());
        assertEquals(TaskStatus.FINISHED_WITH_ERRORS, e.status());
        Execution none = Execution.failed("no runtime").withRuntime(null, null);
        assertEquals("no runtime\n", text(none, "error.txt"));
    }
}
