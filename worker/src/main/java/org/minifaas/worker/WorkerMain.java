package org.minifaas.worker;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.minifaas.common.config.Env;
import org.minifaas.common.nats.NatsLayer;
import org.minifaas.common.ops.OpsRegistry;
import org.minifaas.common.ops.OpsServer;
import org.minifaas.common.ops.Readiness;
import org.minifaas.worker.sandbox.BubblewrapSandbox;
import org.minifaas.worker.sandbox.Network;
import org.minifaas.worker.sandbox.RunAccount;
import org.minifaas.worker.sandbox.Sandbox;
import org.minifaas.worker.sandbox.Unsandboxed;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Starts a worker process: sandbox, accounts and directories checked, Go build cache warmed, then tasks. */
public final class WorkerMain {
    private static final Logger log = LoggerFactory.getLogger(WorkerMain.class);

    private WorkerMain() {}

    public static void main(String[] args) throws Exception {
        WorkerConfig config = Env.loadOrExit("worker", WorkerConfig::fromEnv);
        Sandbox sandbox;
        TaskExecutor executor;
        try {
            Optional<RunAccount> runAccount = RunAccount.resolve(config.runAsUser());
            Optional<RunAccount> buildAccount =
                    runAccount.isPresent() ? RunAccount.resolve(config.buildAsUser()) : Optional.empty();
            sandbox = sandbox(config, runAccount);
            sandbox.describe().forEach(line -> log.info("sandbox {}", line));
            sandbox.warnings().forEach(line -> log.warn("sandbox: {}", line));
            if (runAccount.isEmpty()) {
                log.warn("RUN_AS_USER is empty: sandboxes run as the worker's own user");
            }
            executor = new TaskExecutor(config, sandbox, runAccount, buildAccount);
            executor.describeRuntimes().forEach(line -> log.info("runtime {}", line));
        } catch (IllegalStateException e) {
            log.error("worker not started: {}", e.getMessage());
            System.exit(2);
            return;
        }
        // one worker per WORKER_WORK_DIR: what is in it now was left by a worker that was killed
        executor.removeLeftovers();
        // the ops port answers from the start (/healthz: 503 "starting"), so that a supervisor sees a live process
        // while it warms up; ready once warm and taking tasks
        PrometheusMeterRegistry registry = OpsRegistry.create("worker");
        Readiness readiness = new Readiness();
        AtomicReference<NatsLayer> connected = new AtomicReference<>();
        Optional<OpsServer> ops = OpsServer.start(
                config.ops(),
                registry,
                readiness,
                () -> connected.get() != null && connected.get().isConnected());
        executor.warm();
        NatsLayer nats = NatsLayer.connect(config.nats(), "worker");
        connected.set(nats);
        WorkerMetrics metrics = new WorkerMetrics(registry);
        Worker worker =
                new Worker(nats, executor, config.concurrency(), sandbox.isolated(), config.logMaxBytes(), metrics);
        metrics.watchSlots(worker::busySlots, config.concurrency());
        worker.start();
        nats.closeOnShutdown(() -> {
            worker.close(config.shutdownGrace());
            sandbox.close();
            ops.ifPresent(OpsServer::close);
        });
        readiness.markReady(); // /healthz says ok from here: the worker takes tasks
    }

    private static Sandbox sandbox(WorkerConfig config, Optional<RunAccount> probeAccount) throws Exception {
        boolean root = "0".equals(String.valueOf(Files.getAttribute(Path.of("/proc/self"), "unix:uid")));
        if (config.sandbox().equals("off")) {
            return new Unsandboxed(root);
        }
        Files.createDirectories(config.workDir());
        if (config.network() != Network.EGRESS) {
            return BubblewrapSandbox.start(config.workDir(), probeAccount);
        }
        BubblewrapSandbox sandbox = BubblewrapSandbox.startWithEgress(config.workDir(), probeAccount);
        sandbox.keepNetworksReady(config.function(), config.egressReadyAhead());
        return sandbox;
    }
}
