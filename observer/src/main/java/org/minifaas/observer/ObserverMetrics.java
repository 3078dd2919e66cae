package org.minifaas.observer;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;

/**
 * The observer's metrics: what each check measured (backlog, live workers) and how webhook deliveries went. The
 * gauges show the last check's figures (empty before the first), so a scrape never waits for NATS.
 */
public final class ObserverMetrics {
    private volatile double backlog = Double.NaN;
    private volatile double liveWorkers = Double.NaN;
    private final Counter delivered;
    private final Counter retried;
    private final Counter failed;

    public ObserverMetrics(MeterRegistry registry) {
        Gauge.builder("minifaas.queue.backlog", this, m -> m.backlog)
                .description("Tasks waiting for a worker, at the observer's last check")
                .register(registry);
        Gauge.builder("minifaas.workers.live", this, m -> m.liveWorkers)
                .description("Worker processes with a heartbeat in the last 15 s, at the observer's last check")
                .register(registry);
        delivered = webhooks(registry, "delivered", "answered 2xx");
        retried = webhooks(registry, "retried", "failed, another attempt follows");
        failed = webhooks(registry, "failed", "given up: the last attempt failed, or refused (address, no secret)");
    }

    /** Metrics that go nowhere (tests without an ops server). */
    public static ObserverMetrics none() {
        return new ObserverMetrics(new CompositeMeterRegistry());
    }

    void checked(long waiting, long live) {
        backlog = waiting;
        liveWorkers = live;
    }

    void webhookDelivered() {
        delivered.increment();
    }

    void webhookRetried() {
        retried.increment();
    }

    void webhookFailed() {
        failed.increment();
    }

    private static Counter webhooks(MeterRegistry registry, String outcome, String meaning) {
        return Counter.builder("minifaas.webhook.deliveries")
                .tag("outcome", outcome)
                .description("Webhook delivery attempts by outcome (" + outcome + ": " + meaning + ")")
                .register(registry);
    }
}
