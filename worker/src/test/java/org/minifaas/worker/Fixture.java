package org.minifaas.worker;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Stream;
import org.minifaas.common.config.NatsSettings;
import org.minifaas.common.model.Task;
import org.minifaas.common.model.TaskStatus;
import org.minifaas.common.nats.NatsLayer;
import org.minifaas.common.testing.Poll;

/** Creating tasks the way the frontend does, and waiting for their end. */
final class Fixture {
    static final String USER = "worker-test-user";

    private Fixture() {
    }

    static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    /** Functions run as `client` when the tests run as root (as in CI), else as the test's own user. */
    static String runAsUser() {
        return isRoot() ? "client" : "";
    }

    /** Builds run as `minifaas-build` when the tests run as root (CI creates it), else as the run account. */
    static String buildAsUser() {
        return isRoot() ? "minifaas-build" : "";
    }

    static TaskExecutor executor(WorkerConfig config) throws Exception {
        Optional<RunAccount> account = RunAccount.resolve(config.runAsUser());
        return new TaskExecutor(config, account, RunAccount.resolve(config.buildAsUser()));
    }

    static WorkerConfig config(NatsSettings nats, Path workDir, Duration runTimeout) {
        return new WorkerConfig(nats, 2, runAsUser(), buildAsUser(), runTimeout, Duration.ofSeconds(30), Duration.ofSeconds(120),
                workDir, "go", Duration.ofSeconds(5), 256, 1024, 1L << 30);
    }

    static UUID submit(NatsLayer nats, String repoUrl, String... parameters) throws Exception {
        UUID id = UUID.randomUUID();
        nats.userTasks(USER).createPending(id);
        nats.taskQueue().publish(new Task(id, USER, repoUrl, List.of(parameters)));
        return id;
    }

    static Optional<TaskStatus> status(NatsLayer nats, UUID id) throws Exception {
        return nats.userTasks(USER).status(id);
    }

    static TaskStatus awaitFinal(NatsLayer nats, UUID id, Duration timeout) throws Exception {
        return Poll.until(timeout, () -> status(nats, id).orElse(null), s -> s != null && s.isFinal(),
                "task " + id + " to finish");
    }

    static TaskStatus awaitStatus(NatsLayer nats, UUID id, TaskStatus wanted, Duration timeout) throws Exception {
        return Poll.until(timeout, () -> status(nats, id).orElse(null), s -> s == wanted,
                "task " + id + " to be " + wanted);
    }

    static Map<String, String> results(NatsLayer nats, UUID id) throws Exception {
        return nats.results(id).read().orElseThrow().entrySet().stream().collect(
                java.util.stream.Collectors.toMap(Map.Entry::getKey,
                        e -> new String(e.getValue(), StandardCharsets.UTF_8)));
    }

    static List<Path> leftovers(Path dir) throws Exception {
        if (!Files.exists(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.toList();
        }
    }
}
