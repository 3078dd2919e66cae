package org.minifaas.observer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.minifaas.common.testing.Poll;

/**
 * SCALER=docker against the local Docker engine. Skipped where no engine runs or no Debian base
 * image is present (CI's container smoke test scales the real worker image).
 */
class DockerScalerIT {
    static final String IMAGE = "debian:trixie-slim";
    /** The profile compose and the observer image give the workers (the repository's, from this module). */
    static final Path PROFILE = Path.of("..", "docker", "seccomp-worker.json");

    static boolean engineWithImage() {
        if (!Files.exists(Path.of("/var/run/docker.sock"))) {
            return false;
        }
        try {
            return run("docker", "image", "inspect", IMAGE).exit == 0;
        } catch (Exception e) {
            return false;
        }
    }

    record Result(int exit, String output) {}

    static Result run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        return new Result(p.waitFor(), out);
    }

    @Test
    void sizesInDockerNotation() {
        assertEquals(0, DockerScaler.Settings.bytes(""));
        assertEquals(3L << 30, DockerScaler.Settings.bytes("3g"));
        assertEquals(3L << 30, DockerScaler.Settings.bytes("3GB"));
        assertEquals(512L << 20, DockerScaler.Settings.bytes("512m"));
        assertEquals(1024, DockerScaler.Settings.bytes("1k"));
        assertEquals(1234, DockerScaler.Settings.bytes("1234"));
        assertEquals(100, DockerScaler.Settings.bytes("100b"));
        assertThrows(IllegalArgumentException.class, () -> DockerScaler.Settings.bytes("3 gigs"));
        assertThrows(IllegalArgumentException.class, () -> DockerScaler.Settings.bytes("-1g"));
    }

    @Test
    void theRepositoryProfileIsReadAsOneLineOfJson() throws Exception {
        String profile = DockerScaler.Settings.seccompProfile(PROFILE);
        assertTrue(profile.contains("\"defaultAction\":\"SCMP_ACT_ALLOW\""));
        assertTrue(!profile.contains("\n"));
        Path notJson = Files.createTempFile("seccomp", ".json");
        try {
            Files.writeString(notJson, "defaultAction: allow");
            assertThrows(IllegalArgumentException.class, () -> DockerScaler.Settings.seccompProfile(notJson));
        } finally {
            Files.delete(notJson);
        }
    }

    @Test
    void workerContainersFollowTheDecisions() throws Exception {
        assumeTrue(engineWithImage(), "needs a Docker engine with image " + IMAGE);
        String group = "test-" + UUID.randomUUID();
        DockerScaler.Settings settings = new DockerScaler.Settings(
                "unix:///var/run/docker.sock",
                IMAGE,
                "",
                group,
                List.of("NATS_SERVER_ADDRESS=nats://nowhere:4222"),
                List.of("sh", "-c", "trap \"exit 0\" TERM; sleep 300 & wait"),
                DockerScaler.Settings.seccompProfile(PROFILE),
                256L << 20,
                300);
        try (DockerScaler scaler = new DockerScaler(settings)) {
            try {
                scaler.check();
                scaler.scaleTo(2);
                Poll.until(Duration.ofSeconds(60), () -> scaler.workers(false).size(), n -> n == 2, "two workers");
                String id = scaler.workers(false).get(0).getId();
                // started like the compose replicas: the worker profile and the outer limits
                Result limits = run(
                        "docker",
                        "inspect",
                        "-f",
                        "{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}} {{.HostConfig.PidsLimit}}",
                        id);
                assertEquals((256L << 20) + " " + (256L << 20) + " 300", limits.output());
                // the profile lets an unprivileged user make a user namespace (Docker's default refuses)...
                List<String> exec = new ArrayList<>(List.of("docker", "exec", "-u", "65534", id));
                exec.addAll(List.of("unshare", "-U", "true"));
                Result userns = run(exec.toArray(String[]::new));
                assertEquals(0, userns.exit(), "unshare -U in a started worker: " + userns.output());
                // ... and it is a filter, not seccomp=unconfined
                Result filter = run("docker", "exec", id, "grep", "^Seccomp:", "/proc/self/status");
                assertEquals("Seccomp:\t2", filter.output(), "a seccomp filter is loaded");
                scaler.scaleTo(1);
                Poll.until(Duration.ofSeconds(90), () -> scaler.workers(false).size(), n -> n == 1, "one worker");
                assertEquals(List.of("NATS_SERVER_ADDRESS=nats://nowhere:4222"), settings.env());
            } finally {
                scaler.removeOwn();
            }
            assertEquals(0, scaler.workers(false).size());
        }
    }
}
