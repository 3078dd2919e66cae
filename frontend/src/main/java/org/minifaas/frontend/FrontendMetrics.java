package org.minifaas.frontend;

import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.javalin.router.Endpoint;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The frontend's metrics: tasks created (by either API) and every HTTP request, timed by its route's path pattern
 * ({@code /v1/tasks/{id}}, never the raw URL: the labels stay a fixed, small set).
 */
public final class FrontendMetrics {
    private static final String STARTED = "metrics.started";
    /** Label of the requests no route matched (404s, 405s, static files): one label for all of them. */
    static final String UNMATCHED = "UNMATCHED";

    private static final Duration[] BUCKETS = {
        Duration.ofMillis(5),
        Duration.ofMillis(10),
        Duration.ofMillis(25),
        Duration.ofMillis(50),
        Duration.ofMillis(100),
        Duration.ofMillis(250),
        Duration.ofMillis(500),
        Duration.ofSeconds(1),
        Duration.ofMillis(2500),
        Duration.ofSeconds(5),
        Duration.ofSeconds(10),
        Duration.ofSeconds(30),
        Duration.ofSeconds(60)
    };

    private final MeterRegistry registry;
    private final Counter created;
    /** The timers by method, route and status: a small, fixed set, registered once each, not on every request. */
    private final Map<String, Timer> timers = new ConcurrentHashMap<>();

    public FrontendMetrics(MeterRegistry registry) {
        this.registry = registry;
        this.created = Counter.builder("minifaas.tasks.created")
                .description("Tasks stored and queued (POST /createTask and POST /v1/tasks; not idempotent repeats)")
                .register(registry);
    }

    /** Metrics that go nowhere (tests and embeddings without an ops server). */
    public static FrontendMetrics none() {
        return new FrontendMetrics(new CompositeMeterRegistry());
    }

    void taskCreated() {
        created.increment();
    }

    /** Times every request, from the first before-handler to the last after-handler. */
    void measure(RoutesConfig routes) {
        routes.before(ctx -> ctx.attribute(STARTED, System.nanoTime()));
        routes.after(this::record);
    }

    private void record(Context ctx) {
        Long started = ctx.attribute(STARTED);
        if (started == null) {
            return;
        }
        Endpoint endpoint = ctx.endpoints().matchedHttpEndpoint();
        String method = ctx.method().name();
        String uri = endpoint == null ? UNMATCHED : endpoint.path;
        int status = ctx.statusCode();
        timers.computeIfAbsent(method + ' ' + uri + ' ' + status, key -> timer(method, uri, status))
                .record(System.nanoTime() - started, TimeUnit.NANOSECONDS);
    }

    private Timer timer(String method, String uri, int status) {
        return Timer.builder("http.server.requests")
                .description("HTTP requests to the frontend, by route pattern")
                .tag("method", method)
                .tag("uri", uri)
                .tag("status", Integer.toString(status))
                .serviceLevelObjectives(BUCKETS)
                .register(registry);
    }
}
