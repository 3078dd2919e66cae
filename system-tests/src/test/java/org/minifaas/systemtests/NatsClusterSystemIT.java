package org.minifaas.systemtests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.javalin.Javalin;
import io.nats.client.Connection;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.api.ClusterInfo;
import io.nats.client.api.Replica;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.minifaas.common.Json;
import org.minifaas.common.config.Env;
import org.minifaas.common.config.NatsSettings;
import org.minifaas.common.model.TaskRecord;
import org.minifaas.common.model.TaskStatus;
import org.minifaas.common.nats.NatsLayer;
import org.minifaas.common.nats.TaskQueue;
import org.minifaas.common.testing.GitHttpServer;
import org.minifaas.common.testing.NatsTestCluster;
import org.minifaas.common.testing.NatsTestServer;
import org.minifaas.common.testing.Poll;
import org.minifaas.common.testing.TestFiles;
import org.minifaas.frontend.FrontendApp;
import org.minifaas.frontend.FrontendConfig;
import org.minifaas.frontend.LogService;
import org.minifaas.frontend.SystemService;
import org.minifaas.frontend.TaskService;
import org.minifaas.worker.TaskExecutor;
import org.minifaas.worker.Worker;
import org.minifaas.worker.WorkerConfig;
import org.minifaas.worker.sandbox.BubblewrapSandbox;
import org.minifaas.worker.sandbox.RunAccount;
import org.minifaas.worker.sandbox.Sandbox;

/**
 * A frontend and two workers on a 3-node JetStream cluster with NATS_REPLICAS=3: a burst of tasks, and a node
 * killed with SIGKILL in the middle of it (the leader of the task queue's stream, or a follower). Every task must
 * end FINISHED; the killed node, restarted, must catch up. Prints one CLUSTER-REPORT line per run (docs/SCALING.md).
 */
class NatsClusterSystemIT {
    private static final int TASKS = 200;
    private static final int USERS = 5; // 40 tasks each: under the per-user quota
    private static final Duration ALL_FINAL_WITHIN = Duration.ofMinutes(4);
    private static GitHttpServer git;
    private static Sandbox sandbox;
    private static String repository;

    @BeforeAll
    static void start() throws Exception {
        git = GitHttpServer.start();
        repository = git.createRepo("cluster", Functions.says("cluster"));
        Path state = Files.createTempDirectory("minifaas-sandbox-");
        Files.setPosixFilePermissions(state, PosixFilePermissions.fromString("rwx--x--x"));
        sandbox = BubblewrapSandbox.start(state, RunAccount.resolve(Stack.isRoot() ? "client" : ""));
    }

    @AfterAll
    static void stop() throws Exception {
        sandbox.close();
        git.close();
    }

    @Test
    void killingTheLeaderOfTheTaskQueueLosesNoTask() throws Exception {
        try (NatsTestCluster cluster = NatsTestCluster.start(3)) {
            burst(cluster.urls(), 3, cluster, true);
        }
    }

    @Test
    void killingAFollowerLosesNoTask() throws Exception {
        try (NatsTestCluster cluster = NatsTestCluster.start(3)) {
            burst(cluster.urls(), 3, cluster, false);
        }
    }

    /** A stream made with one replica (a single server before) is brought to NATS_REPLICAS, not left at R1. */
    @Test
    void streamsMadeWithOneReplicaAreBroughtToTheReplicasWanted() throws Exception {
        try (NatsTestCluster cluster = NatsTestCluster.start(3)) {
            try (NatsLayer single = NatsLayer.connect(cluster.settings(1), "before")) {
                single.taskQueue().ensure();
            }
            try (Connection admin = Nats.connect(
                    new Options.Builder().servers(cluster.urls().split(",")).build())) {
                assertEquals(
                        1,
                        admin.jetStreamManagement()
                                .getStreamInfo(TaskQueue.STREAM)
                                .getConfiguration()
                                .getReplicas());
                try (NatsLayer clustered = NatsLayer.connect(cluster.settings(3), "after")) {
                    clustered.taskQueue().ensure();
                }
                assertEquals(
                        3,
                        admin.jetStreamManagement()
                                .getStreamInfo(TaskQueue.STREAM)
                                .getConfiguration()
                                .getReplicas());
            }
        }
    }

    /**
     * A waiting read ({@code ?waitSeconds=N}) on a 3-node cluster with the records replicated 3 times: the write it
     * hears can be published before the stream has stored it, so the read just after can be stale; it must still
     * answer soon after the final write, not at its next once-a-second read.
     */
    @Test
    void aWaitingReadOnTheClusterAnswersSoonAfterTheFinalWrite() throws Exception {
        try (NatsTestCluster cluster = NatsTestCluster.start(3);
                NatsLayer reader = NatsLayer.connect(cluster.settings(3), "frontend");
                NatsLayer writer = NatsLayer.connect(cluster.settings(3), "worker")) {
            TaskService tasks = new TaskService(reader, 100);
            // a new cluster places a 3-replica bucket only once all three servers are its peers
            Poll.until(
                    Duration.ofSeconds(30),
                    () -> {
                        try {
                            return writer.userTasks("waiter");
                        } catch (io.nats.client.JetStreamApiException | IOException e) {
                            return null;
                        }
                    },
                    opened -> opened != null,
                    "the user's bucket on the new cluster");
            ExecutorService waiting = Executors.newSingleThreadExecutor();
            List<Long> late = new ArrayList<>();
            try {
                for (int i = 0; i < 20; i++) {
                    UUID id = UUID.randomUUID();
                    writer.userTasks("waiter").createPending(id);
                    Future<TaskRecord> answer = waiting.submit(() -> tasks.await("waiter", id, Duration.ofSeconds(10)));
                    // not synchronisation: a write before the read subscribes is found by its first read all the
                    // same; the pause makes most of these writes reach it as notices, the path under test
                    Thread.sleep(50);
                    long written = System.nanoTime();
                    writer.userTasks("waiter").setStatus(id, TaskStatus.FINISHED);
                    assertEquals(
                            TaskStatus.FINISHED,
                            answer.get(15, TimeUnit.SECONDS).status());
                    long ms = (System.nanoTime() - written) / 1_000_000;
                    if (ms > 600) {
                        late.add(ms);
                    }
                }
            } finally {
                waiting.shutdownNow();
            }
            assertEquals(List.of(), late, "waiting reads that answered later than 600 ms after the final write");
        }
    }

    @Test
    void aRecordWrittenThroughOneServerIsReadThroughAnotherAtOnce() throws Exception {
        try (NatsTestCluster cluster = NatsTestCluster.start(3)) {
            List<NatsTestCluster.Node> nodes = cluster.nodes();
            try (NatsLayer writer = NatsLayer.connect(
                            NatsSettings.defaults(nodes.get(0).url()).withReplicas(3), "frontend");
                    NatsLayer reader = NatsLayer.connect(
                            NatsSettings.defaults(nodes.get(2).url()).withReplicas(3), "frontend")) {
                String user = "read-after-write";
                writer.userTasks(user);
                List<UUID> unseen = new ArrayList<>();
                for (int i = 0; i < 200; i++) {
                    UUID id = UUID.randomUUID();
                    writer.userTasks(user).createPending(id);
                    if (reader.userTasks(user).status(id).isEmpty()) {
                        unseen.add(id); // a POST's 202, then a GET's 404
                    }
                    writer.userTasks(user).forget(id); // under the user's quota
                }
                assertEquals(List.of(), unseen, "records read as unknown right after their write");
            }
        }
    }

    @Test
    void aReplicatedBucketAskedForWhileTheClusterIsStillFormingIsMadeOnceItHasFormed() throws Exception {
        try (NatsTestCluster cluster = NatsTestCluster.start(3, 2)) {
            NatsTestCluster.Node third = cluster.nodes().get(2);
            try (NatsLayer layer = NatsLayer.connect(cluster.settings(3), "frontend");
                    Connection probe = Nats.connect(new Options.Builder()
                            .servers(cluster.nodes().subList(0, 2).stream()
                                    .map(NatsTestCluster.Node::url)
                                    .toArray(String[]::new))
                            .build())) {
                // the state under test: two servers of three up, which refuse to place three replicas
                Poll.until(
                        Duration.ofSeconds(30),
                        () -> placementAnswer(probe),
                        answer -> answer.equals("10005"),
                        "the forming cluster to refuse a 3-replica stream");
                ExecutorService opener = Executors.newSingleThreadExecutor();
                try {
                    Future<?> opening = opener.submit(() -> layer.userTasks("asked-while-down"));
                    // still asking (without retries it failed at once with "no suitable peers for placement")
                    assertThrows(TimeoutException.class, () -> opening.get(1, TimeUnit.SECONDS));
                    third.restart(); // its first start
                    opening.get(20, TimeUnit.SECONDS);
                } finally {
                    opener.shutdownNow();
                }
                layer.userTasks("asked-while-down").createPending(UUID.randomUUID());
            }
        }
    }

    /** The API error code a 3-replica stream's creation gets now ("0": created, and removed again). */
    private static String placementAnswer(Connection c) {
        try {
            c.jetStreamManagement()
                    .addStream(io.nats.client.api.StreamConfiguration.builder()
                            .name("PROBE")
                            .subjects("probe.placement")
                            .replicas(3)
                            .build());
            c.jetStreamManagement().deleteStream("PROBE");
            return "0";
        } catch (io.nats.client.JetStreamApiException e) {
            return Integer.toString(e.getApiErrorCode());
        } catch (IOException e) {
            return e.toString();
        }
    }

    /** The same burst on one server, no fault: the figure the cluster's is compared with. */
    @Test
    void theSameBurstOnOneServer() throws Exception {
        try (NatsTestServer server = NatsTestServer.start()) {
            burst(server.url(), 1, null, false);
        }
    }

    /** Services as separate processes have them: each its own connection to every server of the cluster. */
    private record Services(
            NatsLayer frontendNats, Javalin app, List<NatsLayer> workerNats, List<Worker> workers, List<Path> workDirs)
            implements AutoCloseable {
        String base() {
            return "http://127.0.0.1:" + app.port();
        }

        @Override
        public void close() throws Exception {
            app.stop();
            for (Worker w : workers) {
                w.close(Duration.ofSeconds(5));
            }
            for (NatsLayer n : workerNats) {
                n.close();
            }
            frontendNats.close();
            for (Path d : workDirs) {
                TestFiles.deleteTree(d);
            }
        }
    }

    private static Services services(String urls, int replicas) throws Exception {
        Map<String, String> env = new HashMap<>(Map.of(
                "NATS_SERVER_ADDRESS", urls,
                "NATS_REPLICAS", Integer.toString(replicas),
                "REPO_ALLOW_PRIVATE_ADDRESSES", "true",
                "TASK_ACK_WAIT_SECONDS", "10",
                "MAX_SECONDS_EXECUTION_PER_REQUEST", "20"));
        NatsSettings settings = NatsSettings.fromEnv(new Env(env));
        NatsLayer frontendNats = NatsLayer.connect(settings, "frontend");
        FrontendConfig frontendConfig = FrontendConfig.fromEnv(new Env(env));
        Javalin app = FrontendApp.create(
                        frontendConfig,
                        new TaskService(frontendNats, frontendConfig.maxWaitingRequests()),
                        new LogService(frontendNats, frontendConfig.maxLogStreams()),
                        new SystemService(frontendNats))
                .start("127.0.0.1", 0);
        List<NatsLayer> workerNats = new ArrayList<>();
        List<Worker> workers = new ArrayList<>();
        List<Path> workDirs = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            Path workDir = Files.createTempDirectory("minifaas-cluster-worker-");
            Map<String, String> workerEnv = new HashMap<>(env);
            workerEnv.putAll(Map.of(
                    "WORKER_CONCURRENCY",
                    "2",
                    "RUN_AS_USER",
                    Stack.isRoot() ? "client" : "",
                    "BUILD_AS_USER",
                    Stack.isRoot() ? "minifaas-build" : "",
                    "WORKER_WORK_DIR",
                    workDir.toString(),
                    "WORKER_CACHE_DIR",
                    Stack.CACHE.toString(),
                    "FUNCTION_NETWORK",
                    "none"));
            WorkerConfig config = WorkerConfig.fromEnv(new Env(workerEnv), settings);
            Optional<RunAccount> runAccount = RunAccount.resolve(config.runAsUser());
            TaskExecutor executor =
                    new TaskExecutor(config, sandbox, runAccount, RunAccount.resolve(config.buildAsUser()));
            executor.warm();
            executor.awaitWarm(Duration.ofMinutes(5));
            NatsLayer nats = NatsLayer.connect(settings, "worker-" + i);
            Worker worker = new Worker(nats, executor, config.concurrency());
            worker.start();
            workerNats.add(nats);
            workers.add(worker);
            workDirs.add(workDir);
        }
        return new Services(frontendNats, app, workerNats, workers, workDirs);
    }

    private void burst(String urls, int replicas, NatsTestCluster cluster, boolean killLeader) throws Exception {
        try (Services services = services(urls, replicas);
                Connection admin = Nats.connect(new Options.Builder()
                        .servers(urls.split(","))
                        .maxReconnects(-1)
                        .build())) {
            Api api = new Api(services.base());
            // a task per worker first, so that every worker has built the function before the clock starts
            String warm = api.createWithRetries("warm-up", UUID.randomUUID().toString());
            api.awaitFinal("warm-up", warm, Duration.ofMinutes(2));

            Map<String, String> owners = new ConcurrentHashMap<>();
            ApiGap gap = new ApiGap(services.base());
            gap.start();
            long started = System.nanoTime();
            ExecutorService clients = Executors.newFixedThreadPool(8);
            List<Future<String>> created = new ArrayList<>();
            for (int i = 0; i < TASKS; i++) {
                String user = "cluster-user-" + (i % USERS);
                String key = UUID.randomUUID().toString();
                created.add(clients.submit(() -> {
                    String id = api.createWithRetries(user, key);
                    owners.put(id, user);
                    return id;
                }));
            }
            String killed = null;
            if (cluster != null) {
                // in the middle of the burst: once a quarter of the tasks are created
                Poll.until(Duration.ofMinutes(2), () -> owners.size(), n -> n >= TASKS / 4, "a quarter created");
                ClusterInfo info = admin.jetStreamManagement()
                        .getStreamInfo(TaskQueue.STREAM)
                        .getClusterInfo();
                killed = killLeader
                        ? info.getLeader()
                        : info.getReplicas().stream()
                                .map(Replica::getName)
                                .findFirst()
                                .orElseThrow();
                cluster.node(killed).kill();
            }
            List<String> ids = new ArrayList<>();
            for (Future<String> f : created) {
                ids.add(f.get());
            }
            clients.shutdown();
            Map<String, Integer> byStatus = new HashMap<>();
            int duplicates = 0;
            for (String id : ids) {
                JsonNode record = api.awaitFinal(owners.get(id), id, ALL_FINAL_WITHIN);
                byStatus.merge(record.get("status").asText(), 1, Integer::sum);
                if (record.path("attempts").asInt(1) > 1) {
                    duplicates++;
                }
            }
            double seconds = (System.nanoTime() - started) / 1e9;
            gap.stop();
            long catchUpMs = -1;
            if (killed != null) {
                long restartedAt = System.nanoTime();
                cluster.node(killed).restart();
                String node = killed;
                Poll.until(
                        Duration.ofSeconds(90),
                        () -> caughtUp(admin, node),
                        ok -> ok,
                        node + " back in the task queue's replicas, current");
                catchUpMs = (System.nanoTime() - restartedAt) / 1_000_000;
            }
            System.out.printf(
                    "CLUSTER-REPORT servers=%d replicas=%d killed=%s tasks=%d finished=%s lost=0 "
                            + "retried-deliveries=%d burst=%.2fs longest-api-gap=%dms api-failures=%d "
                            + "create-retries=%d catch-up=%dms%n",
                    urls.split(",").length,
                    replicas,
                    killed == null ? "none" : (killLeader ? "leader " : "follower ") + killed,
                    ids.size(),
                    byStatus,
                    duplicates,
                    seconds,
                    gap.longestMs(),
                    gap.failures(),
                    api.retries.get(),
                    catchUpMs);
            assertEquals(TASKS, ids.stream().distinct().count(), "one task per create, retries included");
            assertEquals(Map.of("FINISHED", TASKS), byStatus, "every task ended FINISHED");
            assertTrue(services.workers().size() == 2);
        }
    }

    /** Whether {@code node} is again one of the task queue's replicas, current, and none is offline. */
    private static boolean caughtUp(Connection admin, String node) {
        try {
            ClusterInfo info =
                    admin.jetStreamManagement().getStreamInfo(TaskQueue.STREAM).getClusterInfo();
            if (node.equals(info.getLeader())) {
                return true;
            }
            return info.getReplicas().stream()
                    .anyMatch(r -> r.getName().equals(node) && r.isCurrent() && !r.isOffline());
        } catch (Exception e) {
            return false;
        }
    }

    /** A client of the Task API that retries what a real client would: creates, with the same Idempotency-Key. */
    private static final class Api {
        private final String base;
        final AtomicLong retries = new AtomicLong();

        Api(String base) {
            this.base = base;
        }

        HttpResponse<String> call(String method, String path, String user, String body, String... headers)
                throws IOException, InterruptedException {
            return Stack.call(base, Duration.ofSeconds(30), method, path, user, body, headers);
        }

        String createWithRetries(String user, String key) throws Exception {
            String body = Json.MAPPER.writeValueAsString(Map.of("url", repository, "parameters", List.of("p")));
            long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
            while (true) {
                try {
                    HttpResponse<String> r = call("POST", "/v1/tasks", user, body, "Idempotency-Key", key);
                    if (r.statusCode() == 202 || r.statusCode() == 200) {
                        return Json.MAPPER.readTree(r.body()).get("id").asText();
                    }
                    if (r.statusCode() != 503 && r.statusCode() != 500 && r.statusCode() != 409) {
                        throw new AssertionError("create refused: " + r.statusCode() + " " + r.body());
                    }
                } catch (IOException e) {
                    // the connection failed: retried with the same key
                }
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("create of " + key + " not accepted within 2 minutes");
                }
                retries.incrementAndGet();
                Thread.sleep(200);
            }
        }

        JsonNode awaitFinal(String user, String id, Duration within) throws Exception {
            return Poll.until(
                    within,
                    () -> {
                        try {
                            HttpResponse<String> r = call("GET", "/v1/tasks/" + id + "?waitSeconds=10", user, null);
                            return r.statusCode() == 200 ? Json.MAPPER.readTree(r.body()) : null;
                        } catch (IOException e) {
                            return null;
                        }
                    },
                    r -> r != null && isFinal(r.get("status").asText()),
                    "task " + id + " final");
        }

        private static boolean isFinal(String status) {
            return !status.equals("PENDING") && !status.equals("EXECUTING");
        }
    }

    /** Polls GET /healthz every 20 ms and keeps the longest time between two successful answers. */
    private static final class ApiGap {
        private final Api api;
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final AtomicLong longestNs = new AtomicLong();
        private final AtomicLong failures = new AtomicLong();
        private Thread thread;

        ApiGap(String base) {
            this.api = new Api(base);
        }

        void start() {
            thread = new Thread(
                    () -> {
                        long lastOk = System.nanoTime();
                        while (running.get()) {
                            try {
                                HttpResponse<String> r = api.call("GET", "/v1/tasks?limit=1", "cluster-prober", null);
                                if (r.statusCode() == 200) {
                                    long now = System.nanoTime();
                                    longestNs.accumulateAndGet(now - lastOk, Math::max);
                                    lastOk = now;
                                } else {
                                    failures.incrementAndGet();
                                }
                                Thread.sleep(20);
                            } catch (InterruptedException e) {
                                return;
                            } catch (IOException e) {
                                failures.incrementAndGet();
                            }
                        }
                    },
                    "api-gap");
            thread.start();
        }

        void stop() throws InterruptedException {
            running.set(false);
            thread.join();
        }

        long longestMs() {
            return longestNs.get() / 1_000_000;
        }

        long failures() {
            return failures.get();
        }
    }
}
