package org.minifaas.common.ops;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A service's ops port (METRICS_PORT), apart from anything users reach: {@code GET /metrics} in Prometheus's text
 * format and {@code GET /healthz} (200 {"status":"ok"}, or 503 with "starting" before the service is ready and
 * "nats-disconnected" while its NATS connection is down). The JDK's own HTTP server, with no executor: every request
 * is answered on its one dispatcher thread, which is enough for a scrape every few seconds and costs one thread.
 */
public final class OpsServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(OpsServer.class);
    static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

    private final HttpServer server;

    private OpsServer(HttpServer server) {
        this.server = server;
    }

    /**
     * Starts the ops server, or none when METRICS_PORT is 0.
     *
     * @param natsConnected whether the service's NATS connection is CONNECTED right now
     */
    public static Optional<OpsServer> start(
            OpsSettings settings, PrometheusMeterRegistry registry, Readiness readiness, BooleanSupplier natsConnected)
            throws IOException {
        if (!settings.enabled()) {
            log.info("ops server off (METRICS_PORT=0)");
            return Optional.empty();
        }
        HttpServer server;
        try {
            server = JdkHttpServer.create(new InetSocketAddress(settings.host(), Math.max(0, settings.port())));
        } catch (java.net.BindException e) {
            throw new IOException(
                    "the ops port METRICS_PORT=" + settings.port() + " on " + settings.host()
                            + " is in use: give each process on this host its own METRICS_PORT (0 turns it off)",
                    e);
        }
        server.createContext("/", exchange -> {
            try {
                answer(exchange, registry, readiness, natsConnected);
            } catch (IOException | RuntimeException e) {
                log.debug("ops request failed: {}", e.toString());
            } finally {
                exchange.close();
            }
        });
        server.setExecutor(null); // the dispatcher thread answers: no pool
        server.start();
        OpsServer ops = new OpsServer(server);
        log.info("ops server (/metrics, /healthz) listening on {}:{}", settings.host(), ops.port());
        return Optional.of(ops);
    }

    private static void answer(
            HttpExchange exchange, PrometheusMeterRegistry registry, Readiness readiness, BooleanSupplier natsConnected)
            throws IOException {
        String path = exchange.getRequestURI().getPath();
        boolean get = exchange.getRequestMethod().equals("GET")
                || exchange.getRequestMethod().equals("HEAD");
        if (!path.equals("/metrics") && !path.equals("/healthz")) {
            send(exchange, 404, "application/json", "{\"error\":\"not found\"}");
        } else if (!get) {
            exchange.getResponseHeaders().set("Allow", "GET, HEAD");
            send(exchange, 405, "application/json", "{\"error\":\"method not allowed\"}");
        } else if (path.equals("/metrics")) {
            send(exchange, 200, PROMETHEUS_TEXT, registry.scrape());
        } else if (!readiness.isReady()) {
            send(exchange, 503, "application/json", "{\"status\":\"starting\"}");
        } else if (!natsConnected.getAsBoolean()) {
            send(exchange, 503, "application/json", "{\"status\":\"nats-disconnected\"}");
        } else {
            send(exchange, 200, "application/json", "{\"status\":\"ok\"}");
        }
    }

    private static void send(HttpExchange exchange, int status, String contentType, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", contentType);
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        if (exchange.getRequestMethod().equals("HEAD")) {
            exchange.sendResponseHeaders(status, -1);
            return;
        }
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    /** The port it listens on (the one chosen when METRICS_PORT asked for any). */
    public int port() {
        return server.getAddress().getPort();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
