package org.minifaas.common.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.minifaas.common.config.Env;

/** The ops server on a real loopback port: health follows readiness and the NATS connection; metrics are scraped. */
class OpsServerTest {
    static final HttpClient HTTP = HttpClient.newHttpClient();
    final Readiness readiness = new Readiness();
    final AtomicBoolean natsUp = new AtomicBoolean(true);
    PrometheusMeterRegistry registry;
    OpsServer ops;

    @BeforeEach
    void start() throws Exception {
        registry = OpsRegistry.create("test-service");
        ops = OpsServer.start(new OpsSettings("127.0.0.1", -1), registry, readiness, natsUp::get)
                .orElseThrow();
    }

    @AfterEach
    void stop() {
        ops.close();
        registry.close();
    }

    HttpResponse<String> call(String method, String path) throws Exception {
        return HTTP.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + ops.port() + path))
                        .method(method, HttpRequest.BodyPublishers.noBody())
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void healthIsStartingUntilReadyThenOkAndSaysWhenNatsIsDisconnected() throws Exception {
        HttpResponse<String> before = call("GET", "/healthz");
        assertEquals(503, before.statusCode());
        assertEquals("{\"status\":\"starting\"}", before.body());
        assertEquals(
                "application/json", before.headers().firstValue("Content-Type").orElse(""));

        readiness.markReady();
        HttpResponse<String> ready = call("GET", "/healthz");
        assertEquals(200, ready.statusCode());
        assertEquals("{\"status\":\"ok\"}", ready.body());

        natsUp.set(false);
        HttpResponse<String> down = call("GET", "/healthz");
        assertEquals(503, down.statusCode());
        assertEquals("{\"status\":\"nats-disconnected\"}", down.body());

        natsUp.set(true);
        assertEquals(200, call("GET", "/healthz").statusCode());
    }

    @Test
    void answersWithoutNaglesAlgorithm() throws Exception {
        // the JDK's server writes headers and body apart: with Nagle's algorithm the body waited ~40 ms for the
        // client's delayed ACK (a scrape took 25-50 ms on loopback, 1-3 ms without)
        assertEquals("true", System.getProperty(JdkHttpServer.NO_DELAY));
        assertEquals(200, call("GET", "/metrics").statusCode());
    }

    @Test
    void metricsAreThePrometheusTextWithTheServiceTagAndTheJvm() throws Exception {
        registry.counter("minifaas.things.done").increment(3);
        registry.counter("minifaas.tasks.created").increment();
        HttpResponse<String> r = call("GET", "/metrics");
        assertEquals(200, r.statusCode());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/plain; version=0.0.4"));
        assertTrue(r.body().contains("minifaas_things_done_total{service=\"test-service\"} 3.0"), r.body());
        // not minifaas_tasks_total: Prometheus's naming would drop "_created" as a reserved suffix
        assertTrue(r.body().contains("minifaas_tasks_created_total{service=\"test-service\"} 1.0"), r.body());
        for (String jvm : new String[] {
            "jvm_memory_used_bytes",
            "jvm_gc_",
            "jvm_threads_live_threads",
            "jvm_classes_loaded_classes",
            "process_cpu_usage",
            "process_uptime_seconds",
            "process_resident_memory_bytes"
        }) {
            assertTrue(r.body().contains(jvm), jvm + " missing");
        }
        assertFalse(r.body().contains("process_resident_memory_bytes{service=\"test-service\"} NaN"), "RSS read");
    }

    @Test
    void otherPathsAndMethodsAreRefused() throws Exception {
        assertEquals(404, call("GET", "/").statusCode());
        assertEquals(404, call("GET", "/metrics/x").statusCode());
        assertEquals(405, call("POST", "/metrics").statusCode());
    }

    @Test
    void portZeroStartsNothingAndTheDefaultsAreAllInterfacesOn9464() throws Exception {
        assertTrue(OpsServer.start(
                        OpsSettings.fromEnv(new Env(Map.of("METRICS_PORT", "0"))), registry, readiness, natsUp::get)
                .isEmpty());
        assertEquals(new OpsSettings("0.0.0.0", 9464), OpsSettings.fromEnv(new Env(Map.of())));
        Env bad = new Env(Map.of("METRICS_PORT", "70000"));
        OpsSettings.fromEnv(bad);
        assertTrue(org.junit.jupiter.api.Assertions.assertThrows(
                        org.minifaas.common.config.ConfigException.class, bad::validate)
                .getMessage()
                .contains("METRICS_PORT"));
    }
}
