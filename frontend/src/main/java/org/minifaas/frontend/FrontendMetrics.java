package org.minifaas.frontend;

import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.javalin.router.Endpoint;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import java.time.Duration;

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
        Timer.builder("http.server.requests")
                .description("HTTP requests to the frontend, by route pattern")
                .tag("method", ctx.method().name())
                .tag("uri", endpoint == null ? UNMATCHED : endpoint.path)
                .tag("status", Integer.toString(ctx.statusCode()))
                .serviceLevelObjectives(BUCKETS)
                .register(registry)
                .record(Duration.ofNanos(System.nanoTime() - started));
    }
}
