package org.minifaas.worker;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Stream;
import org.minifaas.common.config.Env;
import org.minifaas.common.config.NatsSettings;
import org.minifaas.common.model.Task;
import org.minifaas.common.model.TaskRecord;
import org.minifaas.common.model.TaskStatus;
import org.minifaas.common.nats.NatsLayer;
import org.minifaas.common.testing.Poll;
import org.minifaas.worker.sandbox.BubblewrapSandbox;
import org.minifaas.worker.sandbox.RunAccount;
import org.minifaas.worker.sandbox.Sandbox;

/** Creating tasks the way the frontend does, and waiting for their end. */
final class Fixture {
    static final String USER = "worker-test-user";
    /** One Go build cache for every test of this JVM, warmed once (as a worker does at start). */
    static final Path SHARED_CACHE =
            Path.of(System.getProperty("java.io.tmpdir"), "minifaas-test-cache-" + System.getProperty("user.name"));

    private static Sandbox sandbox;
    private static boolean warmed;

    private Fixture() {}

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

    /** The sandbox of every test executor, started once. */
    static synchronized Sandbox sandbox() throws Exception {
        if (sandbox == null) {
            Path state = Files.createTempDirectory("minifaas-sandbox-");
            Files.setPosixFilePermissions(state, java.nio.file.attribute.PosixFilePermissions.fromString("rwx--x--x"));
            BubblewrapSandbox started = BubblewrapSandbox.startWithEgress(state, RunAccount.resolve(runAsUser()));
            // as a worker does: networks made ahead for functions with the default limits (EgressIT's hostile
            // functions among them)
            started.keepNetworksReady(
                    config(NatsSettings.defaults("nats://127.0.0.1:1"), state, Duration.ofSeconds(20))
                            .function(),
                    2);
            sandbox = started;
            Runtime.getRuntime().addShutdownHook(new Thread(started::close)); // its cgroups, as a worker's hook does
        }
        return sandbox;
    }

    static TaskExecutor executor(WorkerConfig config) throws Exception {
        return executor(config, sandbox());
    }

    static TaskExecutor executor(WorkerConfig config, Sandbox sandbox) throws Exception {
        Optional<RunAccount> account = RunAccount.resolve(config.runAsUser());
        TaskExecutor executor = new TaskExecutor(config, sandbox, account, RunAccount.resolve(config.buildAsUser()));
        synchronized (Fixture.class) {
            if (!warmed && config.cacheDir().equals(SHARED_CACHE)) {
                executor.warm();
                executor.awaitWarm(Duration.ofMinutes(5)); // every toolchain's cache, for steady test timings
                warmed = true;
            }
        }
        return executor;
    }

    static WorkerConfig config(NatsSettings nats, Path workDir, Duration runTimeout) {
        return config(nats, workDir, runTimeout, Map.of());
    }

    /** The worker's configuration as its environment would give it, {@code overrides} applied last. */
    static WorkerConfig config(NatsSettings nats, Path workDir, Duration runTimeout, Map<String, String> overrides) {
        Map<String, String> env = new HashMap<>(Map.of(
                "WORKER_CONCURRENCY", "2",
                "RUN_AS_USER", runAsUser(),
                "BUILD_AS_USER", buildAsUser(),
                "MAX_SECONDS_EXECUTION_PER_REQUEST", Long.toString(runTimeout.toSeconds()),
                "CLONE_TIMEOUT_SECONDS", "30",
                "WORKER_WORK_DIR", workDir.toString(),
                "WORKER_CACHE_DIR", SHARED_CACHE.toString(),
                "WORKER_SHUTDOWN_SECONDS", "5",
                // the tests' Git server is on 127.0.0.1
                "REPO_ALLOW_PRIVATE_ADDRESSES", "true"));
        env.putAll(overrides);
        return WorkerConfig.fromEnv(new Env(env), nats);
    }

    static UUID submit(NatsLayer nats, String repoUrl, String... parameters) throws Exception {
        UUID id = UUID.randomUUID();
        nats.userTasks(USER).createPending(id);
        nats.taskQueue().publish(new Task(id, USER, repoUrl, List.of(parameters)));
        return id;
    }

    /** A task of the Task API: a ref (null: default branch) and its own time limit (0: the worker's). */
    static Task task(String repoUrl, String ref, int timeoutSeconds, String... parameters) {
        return new Task(
                UUID.randomUUID(), USER, repoUrl, List.of(parameters), ref, timeoutSeconds, null, TaskRecord.now());
    }

    /** Queues a task with its record as the frontend creates it. */
    static UUID submit(NatsLayer nats, Task task) throws Exception {
        nats.userTasks(task.userId()).createPending(TaskRecord.pending(task));
        nats.taskQueue().publish(task);
        return task.taskId();
    }

    static TaskRecord record(NatsLayer nats, UUID id) throws Exception {
        return nats.userTasks(USER).record(id).orElseThrow();
    }

    static Optional<TaskStatus> status(NatsLayer nats, UUID id) throws Exception {
        return nats.userTasks(USER).status(id);
    }

    static TaskStatus awaitFinal(NatsLayer nats, UUID id, Duration timeout) throws Exception {
        return Poll.until(
                timeout,
                () -> status(nats, id).orElse(null),
                s -> s != null && s.isFinal(),
                "task " + id + " to finish");
    }

    static TaskStatus awaitStatus(NatsLayer nats, UUID id, TaskStatus wanted, Duration timeout) throws Exception {
        return Poll.until(
                timeout, () -> status(nats, id).orElse(null), s -> s == wanted, "task " + id + " to be " + wanted);
    }

    static Map<String, String> results(NatsLayer nats, UUID id) throws Exception {
        return nats.results(id).read().orElseThrow().entrySet().stream()
                .collect(java.util.stream.Collectors.toMap(
                        Map.Entry::getKey, e -> new String(e.getValue(), StandardCharsets.UTF_8)));
    }

    /** Runs one task directly on an executor, as a worker slot would. */
    static Execution execute(TaskExecutor executor, String url, String... parameters) throws Exception {
        return executor.execute(new Task(UUID.randomUUID(), USER, url, List.of(parameters)));
    }

    static String text(Execution e, String file) {
        byte[] b = e.files().get(file);
        return b == null ? null : new String(b, StandardCharsets.UTF_8);
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
