package org.minifaas.systemtests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The secrets the scripts make and `make up` accepts are ones the real nats-server can read from the Compose
 * stack's configuration files: NATS reads an unquoted value that starts with digits as a number, so a hex token such
 * as 35e3b5... made it refuse to start (7% of `openssl rand -hex 24` tokens; the container smoke test met one).
 */
class NatsSecretsIT {
    static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    record Run(int code, String out) {}

    static Run run(Map<String, String> env, String... argv) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(argv).directory(ROOT.toFile()).redirectErrorStream(true);
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), String.join(" ", argv) + " did not end: " + out);
        return new Run(p.exitValue(), out);
    }

    @Test
    void everyTokenTheScriptsMakeIsReadByNatsFromTheStacksConfiguration() throws Exception {
        // 200 tokens of scripts/lib.sh's new_token (make run, the benchmark, the smoke test), in one shell
        String tokens = run(Map.of(), "bash", "-c", ". scripts/lib.sh; for i in $(seq 200); do new_token; echo; done")
                .out();
        List<String> refused = new ArrayList<>();
        for (String token : tokens.strip().split("\n")) {
            for (String conf : List.of("docker/nats.conf", "docker/nats-cluster.conf")) {
                Run check = run(
                        Map.of(
                                "NATS_TOKEN",
                                token,
                                "NATS_CLUSTER_PASSWORD",
                                token,
                                "NATS_SERVER_NAME",
                                "nats-1",
                                "NATS_ROUTE_1",
                                "nats-route://route:" + token + "@127.0.0.1:6222",
                                "NATS_ROUTE_2",
                                "nats-route://route:" + token + "@127.0.0.1:6223",
                                "NATS_ROUTE_3",
                                "nats-route://route:" + token + "@127.0.0.1:6224"),
                        "nats-server",
                        "-c",
                        conf,
                        "-t");
                if (check.code() != 0) {
                    refused.add(conf + " " + token + ": " + check.out().strip());
                }
            }
        }
        assertEquals(List.of(), refused);
    }

    @Test
    void makeUpRefusesATokenNatsWouldReadAsANumber(@TempDir Path dir) throws Exception {
        Path env = dir.resolve("stack.env");
        Files.writeString(env, "NATS_TOKEN=35e3b5c2f0\n");
        Run up = run(Map.of(), "make", "--no-print-directory", "up", "COMPOSE_ENV_FILE=" + env, "BUILD_JARS=no");
        assertNotEquals(0, up.code(), up.out());
        assertTrue(up.out().contains("NATS_TOKEN in " + env + " must be letters and digits, a letter first"), up.out());
        assertTrue(!up.out().contains("debian-base-image"), "make up went on: " + up.out());
    }
}
