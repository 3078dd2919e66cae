package org.minifaas.observer;

import org.minifaas.common.config.ConfigException;
import org.minifaas.common.config.Env;
import org.minifaas.common.nats.NatsLayer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Starts the observer. */
public final class ObserverMain {
    private static final Logger log = LoggerFactory.getLogger(ObserverMain.class);

    private ObserverMain() {
    }

    public static void main(String[] args) throws Exception {
        Env env = Env.system();
        ObserverConfig config;
        DockerScaler.Settings dockerSettings;
        try {
            config = ObserverConfig.fromEnv(env);
            dockerSettings = "docker".equals(config.scaler())
                    ? DockerScaler.Settings.fromEnv(env, System.getenv()) : null;
            env.validate();
        } catch (ConfigException e) {
            log.error("observer not started: {}", e.getMessage());
            System.exit(2);
            return;
        }
        log.info("observer config: {}", env.summary());
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
        observer.start();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                observer.close();
                nats.close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "shutdown"));
    }
}
