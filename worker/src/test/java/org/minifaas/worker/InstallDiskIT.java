package org.minifaas.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.minifaas.common.config.NatsSettings;
import org.minifaas.common.model.TaskStatus;
import org.minifaas.common.testing.GitHttpServer;
import org.minifaas.common.testing.TestFiles;

/**
 * A package install runs the repository's own scripts: one that writes to disk without end is stopped at
 * INSTALL_MAX_DISK_MB, long before the build's time limit, and its files are removed with the task.
 */
class InstallDiskIT {
    static GitHttpServer git;
    static Path workDir;
    static TaskExecutor executor;

    @BeforeAll
    static void start() throws Exception {
        git = GitHttpServer.start();
        workDir = Files.createTempDirectory("minifaas-install-disk-");
        executor = Fixture.executor(Fixture.config(
                NatsSettings.defaults("nats://127.0.0.1:1"),
                workDir,
                Duration.ofSeconds(20),
                Map.of("INSTALL_MAX_DISK_MB", "16", "BUILD_TIMEOUT_SECONDS", "120")));
    }

    @AfterAll
    static void stop() throws Exception {
        if (git != null) {
            git.close();
        }
        if (workDir != null) {
            executor.awaitCleanup();
            TestFiles.deleteTree(workDir);
        }
    }

    @AfterEach
    void noTaskDirectoryIsLeft() throws Exception {
        executor.awaitCleanup();
        assertEquals(List.of(), Fixture.leftovers(executor.tasksDir()));
    }

    /** A Node.js function whose own postinstall script writes {@code megabytes} files of 1 MiB (-1: without end). */
    private static Execution install(int megabytes) throws Exception {
        return install("const fs = require('fs');\nconst chunk = Buffer.alloc(1 << 20, 120);\n"
                + "for (let i = 0; " + (megabytes < 0 ? "" : "i < " + megabytes) + "; i++) {\n"
                + "  fs.writeFileSync('fill-' + i + '.bin', chunk);\n}\n");
    }

    /** A Node.js function whose own postinstall script is {@code fill}. */
    private static Execution install(String fill) throws Exception {
        String url = git.createRepo(
                "filler-" + UUID.randomUUID(),
                Map.of(
                        "package.json",
                        "{\"name\": \"filler\", \"version\": \"1.0.0\", \"dependencies\": {\"dep\": \"file:dep\"},"
                                + " \"scripts\": {\"postinstall\": \"node fill.js\"}}\n",
                        "dep/package.json",
                        "{\"name\": \"dep\", \"version\": \"1.0.0\"}\n",
                        "fill.js",
                        fill,
                        "index.js",
                        "console.log('ran after the install');\n"));
        return Fixture.execute(executor, url);
    }

    @Test
    void anInstallScriptThatFillsTheDiskIsStoppedAtTheBudget() throws Exception {
        long start = System.nanoTime();
        Execution e = install(-1);
        long seconds = Duration.ofNanos(System.nanoTime() - start).toSeconds();
        String error = Fixture.text(e, "error.txt");
        assertEquals(TaskStatus.FINISHED_WITH_ERRORS, e.status(), error);
        assertTrue(error.contains("wrote more than INSTALL_MAX_DISK_MB=16 MiB to disk"), error);
        // stopped by the budget, not by the build's 120 s time limit
        assertTrue(seconds < 60, "stopped after " + seconds + " s");
        assertTrue(Fixture.text(e, "stdout.txt") == null
                || !Fixture.text(e, "stdout.txt").contains("ran after"));
    }

    @Test
    void spaceReservedWithoutWritingIsCountedToo() throws Exception {
        // fallocate --keep-size takes the blocks and leaves the file's size at 0: neither the size limit per file
        // nor a sum of file sizes sees it
        Execution e = install("require('fs').writeFileSync('reserved', '');\n"
                + "require('child_process').execFileSync('fallocate', ['-n', '-l', '64M', 'reserved']);\n"
                + "setTimeout(() => {}, 30000);\n");
        String error = Fixture.text(e, "error.txt");
        assertEquals(TaskStatus.FINISHED_WITH_ERRORS, e.status(), error);
        assertTrue(error.contains("wrote more than INSTALL_MAX_DISK_MB=16 MiB to disk"), error);
    }

    @Test
    void filesBelowAPathTooLongToNameAreCountedAndRemoved() throws Exception {
        // directories nested past PATH_MAX: a walk by path names cannot reach the bottom, nor remove it
        Execution e = install("const fs = require('fs');\nfor (let i = 0; i < 1500; i++) {\n"
                + "  fs.mkdirSync('dddd'); process.chdir('dddd');\n}\n"
                + "const chunk = Buffer.alloc(1 << 20, 120);\n"
                + "for (let i = 0; ; i++) { fs.writeFileSync('fill-' + i + '.bin', chunk); }\n");
        String error = Fixture.text(e, "error.txt");
        assertEquals(TaskStatus.FINISHED_WITH_ERRORS, e.status(), error);
        assertTrue(error.contains("wrote more than INSTALL_MAX_DISK_MB=16 MiB to disk"), error);
        // and @AfterEach finds the task's directory gone
    }

    @Test
    void anInstallWithinTheBudgetRunsAsBefore() throws Exception {
        Execution e = install(4);
        assertEquals(TaskStatus.FINISHED, e.status(), Fixture.text(e, "error.txt"));
        assertEquals("ran after the install\n", Fixture.text(e, "stdout.txt"));
    }
}
