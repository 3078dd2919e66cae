package org.minifaas.injector;

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
        NatsSettings settings = Env.loadOrExit("injector", NatsSettings::fromEnv);
        NatsLayer nats = NatsLayer.connect(settings, "injector");
        Injector injector = new Injector(nats);
        injector.start();
        nats.closeOnShutdown(injector::close);
    }
}
