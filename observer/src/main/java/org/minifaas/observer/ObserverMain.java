package org.minifaas.observer;

import org.minifaas.common.config.ConfigException;
import org.minifaas.common.config.Env;
import org.minifaas.common.config.NatsSettings;
import org.minifaas.common.nats.NatsLayer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The observer service (placeholder until its issue lands): connects to NATS and waits. */
public final class ObserverMain {
    private static final Logger log = LoggerFactory.getLogger(ObserverMain.class);

    private ObserverMain() {
    }

    public static void main(String[] args) throws Exception {
        Env env = Env.system();
        NatsSettings settings;
        try {
            settings = NatsSettings.fromEnv(env);
            env.validate();
        } catch (ConfigException e) {
            log.error("observer not started: {}", e.getMessage());
            System.exit(2);
            return;
        }
        try (NatsLayer nats = NatsLayer.connect(settings, "observer")) {
            log.info("observer started; nothing to do yet");
            Thread.currentThread().join();
        }
    }
}
