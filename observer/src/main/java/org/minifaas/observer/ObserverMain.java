package org.minifaas.observer;

import org.minifaas.common.config.Env;
import org.minifaas.common.nats.NatsLayer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Starts the observer and, next to it, the webhook sender. */
public final class ObserverMain {
    private static final Logger log = LoggerFactory.getLogger(ObserverMain.class);

    private ObserverMain() {
    }

    public static void main(String[] args) throws Exception {
        ObserverConfig config = Env.loadOrExit("observer", ObserverConfig::fromEnv);
        DockerScaler.Settings dockerSettings = "docker".equals(config.scaler())
                ? Env.loadOrExit("docker scaler", env -> DockerScaler.Settings.fromEnv(env, System.getenv())) : null;
        NatsLayer nats = NatsLayer.connect(config.nats(), "observer");
        nats.taskQueue().ensure();
        Scaler scaler = Scaler.NONE;
        if (dockerSettings != null) {
            DockerScaler docker = new DockerScaler(dockerSettings);
            docker.check();
            scaler = docker;
            log.info("SCALER=docker: worker containers of image {} follow the observer", dockerSettings.image());
        }
        Observer observer = new Observer(nats, config, scaler);
        WebhookSender webhooks = new WebhookSender(nats, config.webhooks());
        nats.closeOnShutdown(() -> {
            webhooks.close();
            observer.close();
        });
        webhooks.start();
        observer.start();
    }
}
