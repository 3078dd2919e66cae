package org.minifaas.frontend;

import io.javalin.Javalin;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.Optional;
import org.minifaas.common.config.Env;
import org.minifaas.common.nats.NatsLayer;
import org.minifaas.common.ops.OpsRegistry;
import org.minifaas.common.ops.OpsServer;
import org.minifaas.common.ops.Readiness;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Starts the REST frontend. */
public final class FrontendMain {
    private static final Logger log = LoggerFactory.getLogger(FrontendMain.class);

    private FrontendMain() {}

    public static void main(String[] args) throws Exception {
        FrontendConfig config = Env.loadOrExit("frontend", FrontendConfig::fromEnv);
        if (config.adminEmails().isEmpty()) {
            log.warn("ADMIN_USERS is empty: the admin endpoints will refuse everyone");
        }
        NatsLayer nats = NatsLayer.connect(config.nats(), "frontend");
        PrometheusMeterRegistry registry = OpsRegistry.create("frontend");
        Readiness readiness = new Readiness();
        Optional<OpsServer> ops = OpsServer.start(config.ops(), registry, readiness, nats::isConnected);
        FrontendMetrics metrics = new FrontendMetrics(registry);
        nats.taskQueue().ensure();
        nats.injections().ensure();
        long maxPayload = nats.connection().getServerInfo().getMaxPayload();
        if (config.maxInjectBytes() + 8192L > maxPayload) {
            log.error(
                    "frontend not started: MAX_INJECT_BYTES={} does not fit the NATS server's max_payload of {} "
                            + "bytes (an injected file travels in one message, with its headers)",
                    config.maxInjectBytes(),
                    maxPayload);
            System.exit(2);
        }
        if (!config.webhooksConfigured()) {
            log.warn("WEBHOOK_SECRET is unset: GET /v1/webhook-key answers 404 (and the observer sends no callbacks)");
        }
        Javalin app = FrontendApp.create(
                        config,
                        new TaskService(nats, config.maxWaitingRequests(), config.maxWaitingRequestsPerUser(), metrics),
                        new LogService(nats, config.maxLogStreams(), config.maxLogStreamsPerUser()),
                        new SystemService(nats),
                        metrics)
                .start(config.host(), config.port());
        log.info("frontend listening on port {}", app.port());
        nats.closeOnShutdown(() -> {
            app.stop();
            ops.ifPresent(OpsServer::close);
        });
        readiness.markReady();
    }
}
