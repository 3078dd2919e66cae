package org.minifaas.injector;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.minifaas.common.model.InjectionRequest;
import org.minifaas.common.nats.NatsLayer;
import org.minifaas.common.ops.OpsRegistry;
import org.minifaas.common.ops.OpsServer;
import org.minifaas.common.ops.OpsSettings;
import org.minifaas.common.ops.Readiness;
import org.minifaas.common.testing.NatsInspect;
import org.minifaas.common.testing.NatsTestServer;
import org.minifaas.common.testing.Poll;
import org.minifaas.common.testing.Scrape;

/** The injector's ops server, started as its main starts it, on a real nats-server. */
class InjectorOpsIT {
    NatsTestServer server;
    NatsLayer nats;
    PrometheusMeterRegistry registry;
    Readiness readiness;
    OpsServer ops;

    @BeforeEach
    void start() throws Exception {
        server = NatsTestServer.start();
        nats = NatsLayer.connect(server.settings(), "injector-ops-test");
        registry = OpsRegistry.create("injector");
        readiness = new Readiness();
        ops = OpsServer.start(new OpsSettings("127.0.0.1", -1), registry, readiness, nats::isConnected)
                .orElseThrow();
    }

    @AfterEach
    void stop() throws Exception {
        ops.close();
        registry.close();
        nats.close();
        server.close();
    }

    @Test
    void storedInjectionsAreCountedAndHealthSaysReady() throws Exception {
        assertEquals(503, Scrape.get(ops.port(), "/healthz").statusCode());
        nats.injections().publish(new InjectionRequest("a.txt", "a".getBytes(StandardCharsets.UTF_8)));
        nats.injections().publish(new InjectionRequest("b.txt", "b".getBytes(StandardCharsets.UTF_8)));
        try (Injector injector = new Injector(nats, new InjectorMetrics(registry))) {
            injector.start();
            readiness.markReady();
            Poll.until(
                    Duration.ofSeconds(20),
                    () -> Scrape.sum(ops.port(), "minifaas_injections_total", "service=injector"),
                    n -> n == 2,
                    "two injections counted");
        }
        assertTrue(NatsInspect.injectedFile(nats, "b.txt").isPresent(), "counted once stored");
        assertTrue(Scrape.sum(ops.port(), "jvm_memory_used_bytes", "service=injector") > 0);
        assertEquals("{\"status\":\"ok\"}", Scrape.get(ops.port(), "/healthz").body());
    }
}
