package org.minifaas.observer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
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

    static boolean engineWithImage() {
        if (!Files.exists(Path.of("/var/run/docker.sock"))) {
            return false;
        }
        try {
            Process p = new ProcessBuilder("docker", "image", "inspect", IMAGE).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor() == 0;
        } catch (Exception e) {
            return false;
        }
    }

    @Test
    void workerContainersFollowTheDecisions() throws Exception {
        assumeTrue(engineWithImage(), "needs a Docker engine with image " + IMAGE);
        String group = "test-" + UUID.randomUUID();
        DockerScaler.Settings settings = new DockerScaler.Settings("unix:///var/run/docker.sock", IMAGE, "", group,
                List.of("NATS_SERVER_ADDRESS=nats://nowhere:4222"), List.of("sh", "-c", "trap \"exit 0\" TERM; sleep 300 & wait"));
        try (DockerScaler scaler = new DockerScaler(settings)) {
            try {
                scaler.check();
                scaler.scaleTo(2);
                Poll.until(Duration.ofSeconds(60), () -> scaler.workers(false).size(), n -> n == 2, "two workers");
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
