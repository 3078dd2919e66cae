package org.minifaas.worker;

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
        Optional<RunAccount> account;
        TaskExecutor executor;
        try {
            account = RunAccount.resolve(config.runAsUser());
            Optional<RunAccount> builder = account.isPresent() ? RunAccount.resolve(config.buildAsUser())
                    : Optional.empty();
            if (account.isPresent() && builder.isEmpty()) {
                log.warn("BUILD_AS_USER is empty: builds run as {} and share the Go caches with the functions",
                        account.get().name());
            }
            executor = new TaskExecutor(config, account, builder);
        } catch (IllegalStateException e) {
            log.error("worker not started: {}", e.getMessage());
            System.exit(2);
            return;
        }
        if (account.isEmpty()) {
            log.warn("RUN_AS_USER is empty: functions run as the worker's own user and can read what it can");
        } else {
            log.info("functions run as {} (uid {})", account.get().name(), account.get().uid());
        }
        NatsLayer nats = NatsLayer.connect(config.nats(), "worker");
        Worker worker = new Worker(nats, executor, config.concurrency());
        worker.start();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                worker.close(config.shutdownGrace());
                nats.close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "shutdown"));
    }
}
