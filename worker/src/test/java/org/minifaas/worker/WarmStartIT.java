package org.minifaas.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.minifaas.common.config.NatsSettings;
import org.minifaas.common.model.TaskStatus;
import org.minifaas.common.testing.GitHttpServer;

/** What a worker (re)started on its directory has ready before its first task. */
class WarmStartIT {
    private static GitHttpServer git;

    @BeforeAll
    static void server() throws Exception {
        git = GitHttpServer.start();
    }

    @AfterAll
    static void stop() throws Exception {
        git.close();
    }

    private static WorkerConfig config(Path workDir) {
        return Fixture.config(NatsSettings.defaults("nats://127.0.0.1:1"), workDir, Duration.ofSeconds(10));
    }

    @Test
    void aRestartedWorkerRunsAKnownCommitWithoutACloneFromItsFirstTask() throws Exception {
        String url = git.createRepo("restart", Functions.ECHO);
        Path workDir = Files.createTempDirectory("minifaas-warm-");
        Execution first = Fixture.executor(config(workDir)).execute(Fixture.task(url, null, 0));
        assertEquals(TaskStatus.FINISHED, first.status(), first.reason());
        assertFalse(first.cloneSkipped(), "a new commit is cloned");

        TaskExecutor restarted = Fixture.executor(config(workDir)); // a new process on the same directory
        Execution again = restarted.execute(Fixture.task(url, null, 0));
        assertEquals(TaskStatus.FINISHED, again.status(), again.reason());
        assertTrue(again.cloneSkipped(), "the kept commit is known again after a restart");
        assertEquals(first.commit(), again.commit());
    }

    @Test
    void warmingBuildsAndRunsInTheSandboxesAndLeavesNothingBehind() throws Exception {
        Path workDir = Files.createTempDirectory("minifaas-warm-");
        TaskExecutor executor = Fixture.executor(config(workDir));
        Duration took = executor.warm();
        assertTrue(took.toMillis() > 0);
        executor.awaitWarm(Duration.ofMinutes(5)); // and the part that runs beside tasks
        executor.awaitCleanup();
        try (Stream<Path> left = Files.list(executor.tasksDir())) {
            assertEquals(0, left.count(), "the warm-up's directory is removed");
        }
    }
}
