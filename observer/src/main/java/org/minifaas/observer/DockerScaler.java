package org.minifaas.observer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.model.Container;
import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.api.model.RestartPolicy;
import com.github.dockerjava.core.DefaultDockerClientConfig;
import com.github.dockerjava.core.DockerClientConfig;
import com.github.dockerjava.core.DockerClientImpl;
import com.github.dockerjava.httpclient5.ApacheDockerHttpClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.minifaas.common.Threads;
import org.minifaas.common.config.Env;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * SCALER=docker: makes the number of running worker containers follow the observer's decision
 * through the Docker Engine API. Workers are the containers labelled {@code minifaas.role=worker}
 * and {@code minifaas.group=<SCALER_GROUP>} (the compose file labels its replicas the same way);
 * the scaler adds containers of its own and, scaling down, stops only those (gracefully: a worker
 * finishes or hands back its tasks on SIGTERM). Changes run on a thread of their own, so a slow
 * stop never delays the observer's checks; the latest decision wins.
 *
 * <p>The workers it starts run like the compose file's replicas: the worker seccomp profile that lets their
 * bubblewrap sandbox work without any added capability (SCALER_WORKER_SECCOMP, docs/CONTAINERS.md) and the
 * same outer memory and process limits (SCALER_WORKER_MEMORY, SCALER_WORKER_PIDS_LIMIT).
 */
final class DockerScaler implements Scaler, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(DockerScaler.class);
    static final String ROLE = "minifaas.role";
    static final String GROUP = "minifaas.group";
    static final String MANAGED = "minifaas.managed-by";
    private static final Pattern SIZE = Pattern.compile("(\\d+)([bkmg])?b?");
    /** Settings the started workers inherit from the observer's own environment. */
    static final List<String> INHERITED_ENV = List.of(
            "NATS_SERVER_ADDRESS",
            "NATS_TOKEN",
            "NATS_REPLICAS",
            "TASK_RETENTION_SECONDS",
            "MAX_RESULT_BYTES",
            "TASK_ACK_WAIT_SECONDS",
            "TASK_MAX_DELIVERIES",
            "MAX_SECONDS_EXECUTION_PER_REQUEST",
            "CLONE_TIMEOUT_SECONDS",
            "BUILD_TIMEOUT_SECONDS",
            "RUN_AS_USER",
            "BUILD_AS_USER",
            "WORKER_CONCURRENCY",
            "WORKER_SHUTDOWN_SECONDS",
            "BINARY_CACHE_ENTRIES",
            "FUNCTION_MAX_PROCESSES",
            "FUNCTION_MAX_FILE_BYTES",
            "SANDBOX",
            "FUNCTION_MEMORY_MB",
            "FUNCTION_TMP_MB",
            "FUNCTION_CPUS",
            "FUNCTION_NETWORK",
            "FUNCTION_CGO",
            "BUILD_MEMORY_MB",
            "BUILD_CPUS",
            "BUILD_TMP_MB",
            "GO_TOOLCHAINS",
            "NPM_CONFIG_REGISTRY",
            "PIP_INDEX_URL",
            "REPO_ALLOW_PRIVATE_ADDRESSES",
            "LOG_LEVEL",
            "GOPROXY",
            "GOFLAGS",
            "METRICS_PORT",
            "METRICS_HOST");

    /**
     * @param dockerHost  DOCKER_HOST
     * @param image       SCALER_WORKER_IMAGE: image of the worker containers
     * @param network     SCALER_NETWORK: network they join (empty: Docker's default)
     * @param group       SCALER_GROUP: label value that tells this system's workers apart
     * @param env         environment of the started workers
     * @param command     command override (empty: the image's)
     * @param seccomp     the seccomp profile (JSON) of the started workers; empty: the engine's default
     * @param memoryBytes their memory limit, swap included (0: none)
     * @param pidsLimit   their process limit (0: none)
     */
    public record Settings(
            String dockerHost,
            String image,
            String network,
            String group,
            List<String> env,
            List<String> command,
            String seccomp,
            long memoryBytes,
            long pidsLimit) {

        /** Without profile or limits (tests with a plain image). */
        public Settings(
                String dockerHost, String image, String network, String group, List<String> env, List<String> command) {
            this(dockerHost, image, network, group, env, command, "", 0, 0);
        }

        public static Settings fromEnv(Env env, Map<String, String> processEnv) {
            List<String> inherited = new ArrayList<>();
            for (String name : INHERITED_ENV) {
                if (processEnv.get(name) != null) {
                    inherited.add(name + "=" + processEnv.get(name));
                }
            }
            String seccompPath = env.string("SCALER_WORKER_SECCOMP", "");
            String seccomp = "";
            if (seccompPath.isEmpty()) {
                log.warn("SCALER_WORKER_SECCOMP is empty: started workers get the engine's default seccomp profile, "
                        + "where their bubblewrap sandbox cannot start (docs/CONTAINERS.md)");
            } else {
                try {
                    seccomp = seccompProfile(Path.of(seccompPath));
                } catch (IOException | IllegalArgumentException e) {
                    env.problem("SCALER_WORKER_SECCOMP=" + seccompPath + ": " + e.getMessage());
                }
            }
            long memory = 0;
            String memoryText = env.string("SCALER_WORKER_MEMORY", "");
            try {
                memory = bytes(memoryText);
            } catch (IllegalArgumentException e) {
                env.problem("SCALER_WORKER_MEMORY=" + memoryText + " " + e.getMessage());
            }
            return new Settings(
                    env.string("DOCKER_HOST", "unix:///var/run/docker.sock"),
                    env.string("SCALER_WORKER_IMAGE", "minifaas/worker:local"),
                    env.string("SCALER_NETWORK", ""),
                    env.string("SCALER_GROUP", "minifaas"),
                    List.copyOf(inherited),
                    List.of(),
                    seccomp,
                    memory,
                    env.longValue("SCALER_WORKER_PIDS_LIMIT", 0, 0, 4_194_304));
        }

        /** A seccomp profile file as the one-line JSON the engine takes in {@code seccomp=<profile>}. */
        static String seccompProfile(Path file) throws IOException {
            JsonNode profile;
            try {
                profile = new ObjectMapper().readTree(Files.readString(file));
            } catch (IOException e) {
                if (Files.isReadable(file)) {
                    throw new IllegalArgumentException("not a JSON seccomp profile: " + e.getMessage());
                }
                throw e;
            }
            if (profile == null || !profile.isObject() || !profile.has("defaultAction")) {
                throw new IllegalArgumentException("not a seccomp profile (no defaultAction)");
            }
            return profile.toString();
        }

        /** Docker's size notation: a whole number of bytes, or with a b, k, m or g suffix (powers of 1024). */
        static long bytes(String text) {
            if (text.isBlank()) {
                return 0;
            }
            Matcher m = SIZE.matcher(text.trim().toLowerCase(Locale.ROOT));
            if (!m.matches()) {
                throw new IllegalArgumentException("is not a size (e.g. 3g, 512m, 1073741824)");
            }
            int shift = switch (m.group(2) == null ? "b" : m.group(2)) {
                case "k" -> 10;
                case "m" -> 20;
                case "g" -> 30;
                default -> 0;
            };
            try {
                long n = Long.parseLong(m.group(1));
                if (n > Long.MAX_VALUE >> shift) {
                    throw new NumberFormatException();
                }
                return n << shift;
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("is too large");
            }
        }
    }

    private final Settings settings;
    private final DockerClient docker;
    private final ExecutorService changes = Executors.newSingleThreadExecutor(Threads.daemon("docker-scaler"));
    private final AtomicInteger target = new AtomicInteger(-1);

    public DockerScaler(Settings settings) {
        this.settings = settings;
        DockerClientConfig config = DefaultDockerClientConfig.createDefaultConfigBuilder()
                .withDockerHost(settings.dockerHost())
                .build();
        ApacheDockerHttpClient http = new ApacheDockerHttpClient.Builder()
                .dockerHost(config.getDockerHost())
                .sslConfig(config.getSSLConfig())
                .connectionTimeout(Duration.ofSeconds(10))
                .responseTimeout(Duration.ofSeconds(90))
                .build();
        this.docker = DockerClientImpl.getInstance(config, http);
    }

    /** Fails early, at start, when the engine is unreachable. */
    public void check() {
        docker.pingCmd().exec();
    }

    @Override
    public void scaleTo(int workers) {
        target.set(workers);
        changes.submit(this::reconcile);
    }

    /** Brings the number of running workers to the latest target. */
    void reconcile() {
        int wanted = target.get();
        try {
            List<Container> running = workers(false);
            int have = running.size();
            for (int i = have; i < wanted; i++) {
                start();
            }
            if (have > wanted) {
                List<Container> ours = new ArrayList<>(workers(true));
                ours.sort(Comparator.comparingLong(Container::getCreated).reversed());
                for (Container c : ours.subList(0, Math.min(have - wanted, ours.size()))) {
                    log.info("stopping worker container {}", c.getId().substring(0, 12));
                    docker.stopContainerCmd(c.getId()).withTimeout(60).exec();
                    docker.removeContainerCmd(c.getId()).withForce(true).exec();
                }
            }
            log.info("worker containers: {} -> {}", have, workers(false).size());
        } catch (RuntimeException e) {
            log.error("scaling to {} workers failed: {}", wanted, e.toString());
        }
    }

    private void start() {
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put(ROLE, "worker");
        labels.put(GROUP, settings.group());
        labels.put(MANAGED, "observer");
        HostConfig host = HostConfig.newHostConfig().withRestartPolicy(RestartPolicy.unlessStoppedRestart());
        if (!settings.seccomp().isEmpty()) {
            host = host.withSecurityOpts(List.of("seccomp=" + settings.seccomp()));
        }
        if (settings.memoryBytes() > 0) {
            host = host.withMemory(settings.memoryBytes()).withMemorySwap(settings.memoryBytes());
        }
        if (settings.pidsLimit() > 0) {
            host = host.withPidsLimit(settings.pidsLimit());
        }
        if (!settings.network().isEmpty()) {
            host = host.withNetworkMode(settings.network());
        }
        var create = docker.createContainerCmd(settings.image())
                .withLabels(labels)
                .withEnv(settings.env())
                .withHostConfig(host);
        if (!settings.command().isEmpty()) {
            create = create.withCmd(settings.command());
        }
        String id = create.exec().getId();
        docker.startContainerCmd(id).exec();
        log.info("started worker container {}", id.substring(0, 12));
    }

    /** Running workers of this group; only those the scaler started when {@code ownOnly}. */
    List<Container> workers(boolean ownOnly) {
        Map<String, String> filter = new LinkedHashMap<>();
        filter.put(ROLE, "worker");
        filter.put(GROUP, settings.group());
        if (ownOnly) {
            filter.put(MANAGED, "observer");
        }
        return docker.listContainersCmd()
                .withLabelFilter(filter)
                .withStatusFilter(List.of("running", "restarting", "created"))
                .exec();
    }

    /** Force-removes (kills) every container this scaler started, at once: pending changes are not waited for. */
    public void removeOwn() {
        for (Container c : workers(true)) {
            docker.removeContainerCmd(c.getId()).withForce(true).exec();
        }
    }

    @Override
    public void close() throws Exception {
        changes.shutdown();
        changes.awaitTermination(2, TimeUnit.MINUTES);
        docker.close();
    }
}
