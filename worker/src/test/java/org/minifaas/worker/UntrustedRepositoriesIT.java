package org.minifaas.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
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

/** Repository URLs and contents an attacker chooses: the worker refuses them with a clear reason. */
class UntrustedRepositoriesIT {
    static final Duration LIMIT = Duration.ofSeconds(10);
    static GitHttpServer git;
    static Path workDir;
    static TaskExecutor permissive;
    static TaskExecutor strict;

    @BeforeAll
    static void start() throws Exception {
        git = GitHttpServer.start();
        workDir = Files.createTempDirectory("minifaas-untrusted-");
        Files.setPosixFilePermissions(workDir, java.nio.file.attribute.PosixFilePermissions.fromString("rwx--x--x"));
        NatsSettings unused = NatsSettings.defaults("nats://127.0.0.1:1");
        permissive = Fixture.executor(
                Fixture.config(unused, workDir.resolve("permissive"), LIMIT, Map.of("CLONE_TIMEOUT_SECONDS", "5")));
        strict = Fixture.executor(Fixture.config(
                unused,
                workDir.resolve("strict"),
                LIMIT,
                Map.of("REPO_ALLOW_PRIVATE_ADDRESSES", "false", "CLONE_TIMEOUT_SECONDS", "5")));
    }

    @AfterAll
    static void stop() throws Exception {
        git.close();
        TestFiles.deleteTree(workDir);
    }

    @AfterEach
    void noTaskDirectoryIsLeft() throws Exception {
        for (TaskExecutor e : List.of(permissive, strict)) {
            e.awaitCleanup();
            assertEquals(List.of(), Fixture.leftovers(e.tasksDir()));
        }
    }

    static String error(Execution e) {
        return Fixture.text(e, "error.txt");
    }

    @Test
    void repositoriesOnPrivateAddressesAreRefusedBeforeAnyConnection() throws Exception {
        String url = git.createRepo("private-" + UUID.randomUUID(), Functions.ECHO);
        int port = Integer.parseInt(url.replaceAll(".*:(\\d+)/.*", "$1"));
        for (String refused : List.of(
                url,
                "http://localhost:" + port + "/git/x",
                "http://[::1]:" + port + "/git/x",
                "http://169.254.169.254/latest/meta-data/",
                "http://10.0.0.1/x.git",
                "git://127.0.0.1/x.git")) {
            Execution e = Fixture.execute(strict, refused);
            assertEquals(TaskStatus.FINISHED_WITH_ERRORS, e.status(), refused);
            assertTrue(error(e).startsWith("clone failed: repositories on "), refused + ": " + error(e));
        }
        assertEquals(TaskStatus.FINISHED, Fixture.execute(permissive, url).status(), "allowed when configured so");
        for (String ambiguous : List.of(
                "git://1.1.1.1#@127.0.0.1:4222/x",
                "http://user@198.51.100.7/x.git",
                "http://198.51.100.7/x.git#frag")) {
            assertEquals(
                    "clone failed: ambiguous repository URL (user info, fragment, query, or a host that parses "
                            + "two ways)\n",
                    error(Fixture.execute(strict, ambiguous)),
                    ambiguous);
        }
    }

    @Test
    void repositoriesOverTheSizeLimitsAreRefusedBeforeCheckout() throws Exception {
        TaskExecutor small = Fixture.executor(Fixture.config(
                NatsSettings.defaults("nats://127.0.0.1:1"),
                workDir.resolve("small"),
                LIMIT,
                Map.of("REPO_MAX_MB", "1", "REPO_MAX_FILES", "20")));
        Map<String, String> big = new HashMap<>(Functions.ECHO);
        big.put("data.txt", "x".repeat(3 * 1024 * 1024)); // compresses to almost nothing on the wire
        Execution e = Fixture.execute(small, git.createRepo("big-" + UUID.randomUUID(), big));
        assertTrue(error(e).startsWith("clone failed: the repository is too large: 31"), error(e));
        Map<String, String> many = new HashMap<>(Functions.ECHO);
        for (int i = 0; i < 30; i++) {
            many.put("f" + i + ".txt", "");
        }
        e = Fixture.execute(small, git.createRepo("many-" + UUID.randomUUID(), many));
        assertTrue(
                error(e).startsWith("clone failed: the repository is too large: ") && error(e).contains(" 32 files"),
                error(e));
        assertEquals(
                TaskStatus.FINISHED,
                Fixture.execute(small, git.createRepo("fits-" + UUID.randomUUID(), Functions.ECHO))
                        .status());
        small.awaitCleanup();
    }

    @Test
    void aClosedPortAndAnOpenOneThatIsNotGitLookTheSame() throws Exception {
        try (AnsweringServer open = AnsweringServer.start(InetAddress.getLoopbackAddress(), "hello");
                ServerSocket closed = new ServerSocket(0, 10, InetAddress.getLoopbackAddress())) {
            int closedPort = closed.getLocalPort();
            closed.close();
            String openError = error(Fixture.execute(permissive, "http://127.0.0.1:" + open.port() + "/r"));
            String closedError = error(Fixture.execute(permissive, "http://127.0.0.1:" + closedPort + "/r"));
            assertEquals(
                    openError.replace(Integer.toString(open.port()), "PORT"),
                    closedError.replace(Integer.toString(closedPort), "PORT"));
        }
    }

    @Test
    void symbolicLinksForTheFilesTheWorkerReadsAreRefused() throws Exception {
        for (String name : List.of("main.go", "go.mod", "go.sum")) {
            Map<String, String> files = new HashMap<>(Functions.ECHO);
            files.put(name, GitHttpServer.symlink("/etc/passwd"));
            Execution e = Fixture.execute(permissive, git.createRepo("link-" + UUID.randomUUID(), files));
            assertEquals(name + " is a symbolic link: refused\n", error(e));
            assertFalse(Fixture.text(e, "stderr.txt").contains("root:"), "a host file was read");
        }
    }

    @Test
    void replacementsOutsideTheRepositoryAreRefusedAndInsideAccepted() throws Exception {
        for (String target : List.of("../../..", "/tmp/planted", "./inner/../../out")) {
            Map<String, String> files = new HashMap<>(Functions.ECHO);
            files.put("go.mod", Functions.GO_MOD + "\nreplace example.com/lib => " + target + "\n");
            Execution e = Fixture.execute(permissive, git.createRepo("replace-" + UUID.randomUUID(), files));
            assertEquals(
                    "go.mod replaces a module with " + target + ", a path outside the repository: refused\n", error(e));
        }
        Map<String, String> inside = new HashMap<>(Functions.ECHO);
        inside.put("go.mod", Functions.GO_MOD + "\nreplace (\n\texample.com/lib => ./lib // vendored\n)\n");
        Execution ok = Fixture.execute(permissive, git.createRepo("replace-ok-" + UUID.randomUUID(), inside), "x");
        assertEquals(TaskStatus.FINISHED, ok.status(), error(ok));
    }

    @Test
    void checkoutWritesWhatWasCountedWhateverGitattributesSay() throws Exception {
        Map<String, String> files = Functions.program("""
                package main

                import (
                \t"fmt"
                \t"os"
                )

                func main() {
                \tinfo, err := os.Stat("data.txt")
                \tif err != nil {
                \t\tfmt.Println(err)
                \t\treturn
                \t}
                \tfmt.Println(info.Size())
                }
                """);
        files = new HashMap<>(files);
        files.put("data.txt", "a\n".repeat(1000));
        files.put(".gitattributes", "*.txt text eol=crlf\n"); // a checkout would write 3000 bytes
        Execution e = Fixture.execute(permissive, git.createRepo("attributes-" + UUID.randomUUID(), files));
        assertEquals("2000\n", Fixture.text(e, "stdout.txt"), "checkout grew the file past its counted size");
    }
}
