package org.minifaas.systemtests;

import io.javalin.Javalin;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.minifaas.common.config.Env;
import org.minifaas.common.nats.NatsLayer;
import org.minifaas.common.ops.OpsRegistry;
import org.minifaas.common.ops.OpsServer;
import org.minifaas.common.ops.OpsSettings;
import org.minifaas.common.ops.Readiness;
import org.minifaas.common.testing.GitHttpServer;
import org.minifaas.common.testing.NatsTestServer;
import org.minifaas.common.testing.TestFiles;
import org.minifaas.frontend.FrontendApp;
import org.minifaas.frontend.FrontendConfig;
import org.minifaas.frontend.FrontendMetrics;
import org.minifaas.frontend.LogService;
import org.minifaas.frontend.SystemService;
import org.minifaas.frontend.TaskService;
import org.minifaas.observer.ObserverMetrics;
import org.minifaas.observer.WebhookSender;
import org.minifaas.worker.TaskExecutor;
import org.minifaas.worker.Worker;
import org.minifaas.worker.WorkerConfig;
import org.minifaas.worker.WorkerMetrics;
import org.minifaas.worker.sandbox.BubblewrapSandbox;
import org.minifaas.worker.sandbox.RunAccount;
import org.minifaas.worker.sandbox.Sandbox;

/**
 * The system as deployed, in one JVM: a real nats-server, a Git server on loopback, the frontend's app on a random
 * port, a worker with the real sandbox; each service with its own NATS connection and its own ops server (metrics,
 * health) on a random loopback port, as separate processes have.
 */
final class Stack implements AutoCloseable {
    static final HttpClient HTTP =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    /** The Go build cache shared by every test JVM of this user, warmed once. */
    static final Path CACHE = Path.of(
            System.getProperty("java.io.tmpdir"), "minifaas-system-test-cache-" + System.getProperty("user.name"));

    final NatsTestServer nats;
    final GitHttpServer git;
    final NatsLayer frontendNats;
    final NatsLayer workerNats;
    final NatsLayer observerNats;
    final WebhookSender webhooks;
    final Javalin app;
    final Sandbox sandbox;
    final Path workDir;
    final TaskExecutor executor;
    final Worker worker;
    final WorkerConfig workerConfig;
    final String base;
    /** The ops servers of the frontend, the worker and the observer's webhook sender. */
    final Ops ops;

    static final String WEBHOOK_SECRET = "system-test-secret";

    private Stack(
            NatsTestServer nats,
            GitHttpServer git,
            NatsLayer frontendNats,
            NatsLayer workerNats,
            NatsLayer observerNats,
            WebhookSender webhooks,
            Javalin app,
            Sandbox sandbox,
            Path workDir,
            TaskExecutor executor,
            Worker worker,
            WorkerConfig workerConfig,
            Ops ops) {
        this.nats = nats;
        this.git = git;
        this.frontendNats = frontendNats;
        this.workerNats = workerNats;
        this.observerNats = observerNats;
        this.webhooks = webhooks;
        this.app = app;
        this.sandbox = sandbox;
        this.workDir = workDir;
        this.executor = executor;
        this.worker = worker;
        this.workerConfig = workerConfig;
        this.ops = ops;
        this.base = "http://127.0.0.1:" + app.port();
    }

    static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    /** Functions run as `client`, builds as `minifaas-build` when the tests run as root (as in CI). */
    static Stack start(int maxSeconds) throws Exception {
        NatsTestServer server = NatsTestServer.start();
        GitHttpServer git = GitHttpServer.start();
        NatsLayer frontendNats = NatsLayer.connect(server.settings(), "frontend");
        NatsLayer workerNats = NatsLayer.connect(server.settings(), "worker");
        Path workDir = Files.createTempDirectory("minifaas-system-");
        Map<String, String> env = new HashMap<>(Map.of(
                "WORKER_CONCURRENCY",
                "2",
                "RUN_AS_USER",
                isRoot() ? "client" : "",
                "BUILD_AS_USER",
                isRoot() ? "minifaas-build" : "",
                "MAX_SECONDS_EXECUTION_PER_REQUEST",
                Integer.toString(maxSeconds),
                "CLONE_TIMEOUT_SECONDS",
                "30",
                "WORKER_WORK_DIR",
                workDir.toString(),
                "WORKER_CACHE_DIR",
                CACHE.toString(),
                "WORKER_SHUTDOWN_SECONDS",
                "5",
                "REPO_ALLOW_PRIVATE_ADDRESSES",
                "true"));
        WorkerConfig config = WorkerConfig.fromEnv(new Env(env), server.settings());
        Path state = Files.createTempDirectory("minifaas-sandbox-");
        Files.setPosixFilePermissions(state, PosixFilePermissions.fromString("rwx--x--x"));
        Optional<RunAccount> runAccount = RunAccount.resolve(config.runAsUser());
        Sandbox sandbox = BubblewrapSandbox.startWithEgress(state, runAccount);
        TaskExecutor executor = new TaskExecutor(config, sandbox, runAccount, RunAccount.resolve(config.buildAsUser()));
        executor.warm();
        executor.awaitWarm(Duration.ofMinutes(5)); // every toolchain, for steady timings
        OpsPort workerOps = OpsPort.start("worker", workerNats);
        WorkerMetrics workerMetrics = new WorkerMetrics(workerOps.registry());
        Worker worker =
                new Worker(workerNats, executor, config.concurrency(), true, config.logMaxBytes(), workerMetrics);
        workerMetrics.watchSlots(worker::busySlots, config.concurrency());
        worker.start();
        FrontendConfig frontendConfig = FrontendConfig.fromEnv(new Env(Map.of(
                "NATS_SERVER_ADDRESS",
                server.settings().serverUrl(),
                "REPO_ALLOW_PRIVATE_ADDRESSES",
                "true",
                "MAX_SECONDS_EXECUTION_PER_REQUEST",
                Integer.toString(maxSeconds),
                "WEBHOOK_SECRET",
                WEBHOOK_SECRET,
                "ADMIN_USERS",
                "admin@example.com")));
        OpsPort frontendOps = OpsPort.start("frontend", frontendNats);
        FrontendMetrics frontendMetrics = new FrontendMetrics(frontendOps.registry());
        Javalin app = FrontendApp.create(
                        frontendConfig,
                        new TaskService(
                                frontendNats,
                                frontendConfig.maxWaitingRequests(),
                                frontendConfig.maxWaitingRequestsPerUser(),
                                frontendMetrics),
                        new LogService(frontendNats, frontendConfig.maxLogStreams()),
                        new SystemService(frontendNats),
                        frontendMetrics)
                .start("127.0.0.1", 0);
        // the observer's webhook sender: retries after 1 s, then 1 s (the production schedule is minutes)
        NatsLayer observerNats = NatsLayer.connect(server.settings(), "observer");
        OpsPort observerOps = OpsPort.start("observer", observerNats);
        WebhookSender webhooks = new WebhookSender(
                observerNats,
                WebhookSender.Settings.fromEnv(new Env(Map.of(
                        "WEBHOOK_SECRET", WEBHOOK_SECRET,
                        "WEBHOOK_RETRY_SECONDS", "1,1",
                        "REPO_ALLOW_PRIVATE_ADDRESSES", "true"))),
                new ObserverMetrics(observerOps.registry()));
        webhooks.start();
        Ops ops = new Ops(frontendOps, workerOps, observerOps);
        ops.markReady();
        return new Stack(
                server,
                git,
                frontendNats,
                workerNats,
                observerNats,
                webhooks,
                app,
                sandbox,
                workDir,
                executor,
                worker,
                config,
                ops);
    }

    /** One service's metrics registry and ops server, as its main makes them. */
    record OpsPort(PrometheusMeterRegistry registry, Readiness readiness, OpsServer server) implements AutoCloseable {
        static OpsPort start(String service, NatsLayer nats) throws IOException {
            PrometheusMeterRegistry registry = OpsRegistry.create(service);
            Readiness readiness = new Readiness();
            return new OpsPort(
                    registry,
                    readiness,
                    OpsServer.start(new OpsSettings("127.0.0.1", -1), registry, readiness, nats::isConnected)
                            .orElseThrow());
        }

        int port() {
            return server.port();
        }

        @Override
        public void close() {
            server.close();
            registry.close();
        }
    }

    /** The ops servers of the services in this stack. */
    record Ops(OpsPort frontend, OpsPort worker, OpsPort observer) implements AutoCloseable {
        void markReady() {
            Stream.of(frontend, worker, observer).forEach(o -> o.readiness().markReady());
        }

        @Override
        public void close() {
            Stream.of(frontend, worker, observer).forEach(OpsPort::close);
        }
    }

    HttpResponse<String> call(String method, String path, String user, String body, String... headers)
            throws IOException, InterruptedException {
        return call(base, Duration.ofSeconds(90), method, path, user, body, headers);
    }

    /** A request to the frontend at {@code base} as {@code user} (the identity headers oauth2-proxy sets). */
    static HttpResponse<String> call(
            String base, Duration timeout, String method, String path, String user, String body, String... headers)
            throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path))
                .timeout(timeout)
                .header("X-Forwarded-User", user)
                .header("X-Forwarded-Email", user + "@example.com");
        for (int i = 0; i + 1 < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        if (body != null) {
            b.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(body));
        } else {
            b.method(method, HttpRequest.BodyPublishers.noBody());
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Override
    public void close() throws Exception {
        app.stop();
        webhooks.close();
        observerNats.close();
        worker.close(Duration.ofSeconds(5));
        sandbox.close();
        frontendNats.close();
        workerNats.close();
        git.close();
        nats.close();
        ops.close();
        TestFiles.deleteTree(workDir);
    }
}
