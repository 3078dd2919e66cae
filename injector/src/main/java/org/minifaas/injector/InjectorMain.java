package org.minifaas.injector;

import org.minifaas.common.config.ConfigException;
import org.minifaas.common.config.Env;
import org.minifaas.common.config.NatsSettings;
import org.minifaas.common.nats.NatsLayer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Starts the injector. */
public final class InjectorMain {
    private static final Logger log = LoggerFactory.getLogger(InjectorMain.class);

    private InjectorMain() {
    }

    public static void main(String[] args) throws Exception {
        Env env = Env.system();
        NatsSettings settings;
        try {
            settings = NatsSettings.fromEnv(env);
            env.validate();
        } catch (ConfigException e) {
            log.error("injector not started: {}", e.getMessage());
            System.exit(2);
            return;
        }
        log.info("injector config: {}", env.summary());
        NatsLayer nats = NatsLayer.connect(settings, "injector");
        Injector injector = new Injector(nats);
        injector.start();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                injector.close();
                nats.close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "shutdown"));
    }
}
