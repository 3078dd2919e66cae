package org.minifaas.injector;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.Optional;
import org.minifaas.common.config.Env;
import org.minifaas.common.nats.NatsLayer;
import org.minifaas.common.ops.OpsRegistry;
import org.minifaas.common.ops.OpsServer;
import org.minifaas.common.ops.Readiness;

/** Starts the injector. */
public final class InjectorMain {
    private InjectorMain() {}

    public static void main(String[] args) throws Exception {
        InjectorConfig config = Env.loadOrExit("injector", InjectorConfig::fromEnv);
        NatsLayer nats = NatsLayer.connect(config.nats(), "injector");
        PrometheusMeterRegistry registry = OpsRegistry.create("injector");
        Readiness readiness = new Readiness();
        Optional<OpsServer> ops = OpsServer.start(config.ops(), registry, readiness, nats::isConnected);
        Injector injector = new Injector(nats, new InjectorMetrics(registry));
        injector.start();
        nats.closeOnShutdown(() -> {
            injector.close();
            ops.ifPresent(OpsServer::close);
        });
        readiness.markReady();
    }
}
