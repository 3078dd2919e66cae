package org.minifaas.worker;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.minifaas.common.config.Env;
import org.minifaas.common.nats.NatsLayer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Starts a worker process. */
public final class WorkerMain {
    private static final Logger log = LoggerFactory.getLogger(WorkerMain.class);

    private WorkerMain() {
    }

    public static void main(String[] args) throws Exception {
        WorkerConfig config = Env.loadOrExit("worker", WorkerConfig::fromEnv);
        List<TaskExecutor> slots = new ArrayList<>();
        try {
            List<Optional<RunAccount>> accounts = new ArrayList<>();
            for (String name : config.runAsUsers()) {
                accounts.add(RunAccount.resolve(name));
            }
            Optional<RunAccount> builder = accounts.get(0).isPresent() ? RunAccount.resolve(config.buildAsUser())
                    : Optional.empty();
            if (accounts.get(0).isPresent() && builder.isEmpty()) {
                log.warn("BUILD_AS_USER is empty: builds run as the run account and share the Go caches with the "
                        + "functions");
            }
            List<TaskExecutor> executors = new ArrayList<>();
            for (Optional<RunAccount> account : accounts) {
                executors.add(new TaskExecutor(config, account, builder));
            }
            for (int i = 0; i < config.concurrency(); i++) {
                slots.add(executors.get(i % executors.size()));
            }
            if (accounts.get(0).isEmpty()) {
                log.warn("RUN_AS_USER is empty: functions run as the worker's own user and can read what it can");
            } else {
                log.info("functions run as {}", config.runAsUsers());
            }
            if (accounts.size() < config.concurrency()) {
                log.warn("{} slots share {} run account(s): functions running at the same time can see each other",
                        config.concurrency(), accounts.size());
            }
        } catch (IllegalStateException e) {
            log.error("worker not started: {}", e.getMessage());
            System.exit(2);
            return;
        }
        NatsLayer nats = NatsLayer.connect(config.nats(), "worker");
        Worker worker = new Worker(nats, slots);
        worker.start();
        nats.closeOnShutdown(() -> worker.close(config.shutdownGrace()));
    }
}
