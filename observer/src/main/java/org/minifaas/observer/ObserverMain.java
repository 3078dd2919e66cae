package org.minifaas.observer;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.Optional;
import org.minifaas.common.config.Env;
import org.minifaas.common.nats.NatsLayer;
import org.minifaas.common.ops.OpsRegistry;
import org.minifaas.common.ops.OpsServer;
import org.minifaas.common.ops.Readiness;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Starts the observer and, next to it, the webhook sender. */
public final class ObserverMain {
    private static final Logger log = LoggerFactory.getLogger(ObserverMain.class);

    private ObserverMain() {}

    public static void main(String[] args) throws Exception {
        ObserverConfig config = Env.loadOrExit("observer", ObserverConfig::fromEnv);
        DockerScaler.Settings dockerSettings = "docker".equals(config.scaler())
                ? Env.loadOrExit("docker scaler", env -> DockerScaler.Settings.fromEnv(env, System.getenv()))
                : null;
        NatsLayer nats = NatsLayer.connect(config.nats(), "observer");
        PrometheusMeterRegistry registry = OpsRegistry.create("observer");
        Readiness readiness = new Readiness();
        Optional<OpsServer> ops = OpsServer.start(config.ops(), registry, readiness, nats::isConnected);
        ObserverMetrics metrics = new ObserverMetrics(registry);
        nats.taskQueue().ensure();
        Scaler scaler = Scaler.NONE;
        if (dockerSettings != null) {
            DockerScaler docker = new DockerScaler(dockerSettings);
            docker.check();
            scaler = docker;
            log.info("SCALER=docker: worker containers of image {} follow the observer", dockerSettings.image());
        }
        Observer observer = new Observer(nats, config, scaler, metrics);
        WebhookSender webhooks = new WebhookSender(nats, config.webhooks(), metrics);
        nats.closeOnShutdown(() -> {
            webhooks.close();
            observer.close();
            ops.ifPresent(OpsServer::close);
        });
        webhooks.start();
        observer.start();
        readiness.markReady();
    }
}
