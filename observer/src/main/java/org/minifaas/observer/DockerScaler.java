package org.minifaas.observer;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.model.Container;
import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.api.model.RestartPolicy;
import com.github.dockerjava.core.DefaultDockerClientConfig;
import com.github.dockerjava.core.DockerClientConfig;
import com.github.dockerjava.core.DockerClientImpl;
import com.github.dockerjava.httpclient5.ApacheDockerHttpClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
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
 */
public final class DockerScaler implements Scaler, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(DockerScaler.class);
    static final String ROLE = "minifaas.role";
    static final String GROUP = "minifaas.group";
    static final String MANAGED = "minifaas.managed-by";
    /** Settings the started workers inherit from the observer's own environment. */
    static final List<String> INHERITED_ENV = List.of("NATS_SERVER_ADDRESS", "NATS_TOKEN", "TASK_RETENTION_SECONDS",
            "MAX_RESULT_BYTES", "TASK_ACK_WAIT_SECONDS", "TASK_MAX_DELIVERIES", "MAX_SECONDS_EXECUTION_PER_REQUEST",
            "CLONE_TIMEOUT_SECONDS", "BUILD_TIMEOUT_SECONDS", "RUN_AS_USER", "BUILD_AS_USER", "WORKER_CONCURRENCY",
            "WORKER_SHUTDOWN_SECONDS", "BINARY_CACHE_ENTRIES", "FUNCTION_MAX_PROCESSES", "FUNCTION_MAX_FILE_BYTES",
            "LOG_LEVEL", "GOPROXY", "GOFLAGS");

    /**
     * @param dockerHost  DOCKER_HOST
     * @param image       SCALER_WORKER_IMAGE: image of the worker containers
     * @param network     SCALER_NETWORK: network they join (empty: Docker's default)
     * @param group       SCALER_GROUP: label value that tells this system's workers apart
     * @param env         environment of the started workers
     * @param command     command override (empty: the image's)
     */
    public record Settings(String dockerHost, String image, String network, String group, List<String> env,
                           List<String> command) {
        public static Settings fromEnv(Env env, Map<String, String> processEnv) {
            List<String> inherited = new ArrayList<>();
            for (String name : INHERITED_ENV) {
                if (processEnv.get(name) != null) {
                    inherited.add(name + "=" + processEnv.get(name));
                }
            }
            return new Settings(
                    env.string("DOCKER_HOST", "unix:///var/run/docker.sock"),
                    env.string("SCALER_WORKER_IMAGE", "minifaas/worker:local"),
                    env.string("SCALER_NETWORK", ""),
                    env.string("SCALER_GROUP", "minifaas"),
                    List.copyOf(inherited), List.of());
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
        HostConfig host = HostConfig.newHostConfig()
                .withRestartPolicy(RestartPolicy.unlessStoppedRestart());
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
        return docker.listContainersCmd().withLabelFilter(filter).withStatusFilter(List.of("running", "restarting",
                "created")).exec();
    }

    /** Waits for pending changes, then stops and removes every container this scaler started. */
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
