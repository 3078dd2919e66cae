package org.minifaas.observer;

import io.nats.client.JetStreamApiException;
import java.io.IOException;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.minifaas.common.Threads;
import org.minifaas.common.nats.NatsLayer;
import org.minifaas.common.nats.ObserverStore;
import org.minifaas.common.nats.TaskQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches the task queue every interval: measures the backlog from JetStream's own counters,
 * applies the {@link CongestionRule}, records status, worker count, counters and events in the
 * observer bucket, and asks the {@link Scaler} to follow. Also runs the retention sweep, being the
 * one periodic singleton of the system.
 */
final class Observer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Observer.class);

    private final NatsLayer nats;
    private final ObserverConfig config;
    private final Scaler scaler;
    private final CongestionRule rule;
    private final ObserverMetrics metrics;
    private final ScheduledExecutorService timer =
            Executors.newSingleThreadScheduledExecutor(Threads.daemon("observer"));
    /** The retention sweep, apart: it waits a few seconds on the streams it fenced, which must not hold up checks. */
    private final ScheduledExecutorService sweeper =
            Executors.newSingleThreadScheduledExecutor(Threads.daemon("retention-sweep"));

    /** Restores the last recorded status and worker count, so a restart loses neither. */
    public Observer(NatsLayer nats, ObserverConfig config, Scaler scaler) throws IOException, JetStreamApiException {
        this(nats, config, scaler, ObserverMetrics.none());
    }

    public Observer(NatsLayer nats, ObserverConfig config, Scaler scaler, ObserverMetrics metrics)
            throws IOException, JetStreamApiException {
        this.nats = nats;
        this.metrics = metrics;
        this.config = config;
        this.scaler = scaler;
        ObserverStore store = nats.observer();
        int workers = store.get(ObserverStore.WORKERS).map(Integer::parseInt).orElse(config.minWorkers());
        String status = store.get(ObserverStore.STATUS).orElse(CongestionRule.OK);
        this.rule =
                new CongestionRule(config.congestionLimit(), config.minWorkers(), config.maxWorkers(), workers, status);
        log.info("observer starts with status {} and {} workers", rule.status(), rule.workers());
    }

    public void start() {
        try {
            scaler.scaleTo(rule.workers()); // after a restart, bring the workers back to the recorded count
        } catch (Exception e) {
            log.warn("initial scaling failed: {}", e.toString());
        }
        timer.scheduleWithFixedDelay(this::safeCheck, 0, config.interval().toMillis(), TimeUnit.MILLISECONDS);
        sweeper.scheduleWithFixedDelay(
                this::safeSweep, 0, config.sweepInterval().toMillis(), TimeUnit.MILLISECONDS);
    }

    private void safeCheck() {
        try {
            check();
        } catch (Exception e) {
            log.warn("check failed (will retry): {}", e.toString());
        }
    }

    /** One check: measure, decide, record, scale. */
    void check() throws Exception {
        TaskQueue.Counters queue = nats.taskQueue().counters();
        long backlog = queue.waiting();
        int before = rule.workers();
        List<String> events = rule.check(backlog);

        ObserverStore store = nats.observer();
        Instant now = Instant.now();
        for (String event : events) {
            log.info(event);
            store.log(now.toEpochMilli(), now + " " + event);
        }
        store.put(ObserverStore.STATUS, rule.status());
        store.put(ObserverStore.WORKERS, Integer.toString(rule.workers()));
        store.put(ObserverStore.IN_MSGS, Long.toString(queue.enqueued()));
        store.put(ObserverStore.OUT_MSGS, Long.toString(queue.taken()));
        store.put(ObserverStore.BACKLOG, Long.toString(backlog));
        if (rule.workers() != before) {
            scaler.scaleTo(rule.workers());
        }
        metrics.checked(backlog, nats.workers().live());
    }

    /** Deletes the streams retention emptied, every RETENTION_SWEEP_SECONDS. */
    private void safeSweep() {
        try {
            nats.janitor().sweep(config.sweepIdle());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // stopping: the fenced streams were given their subjects back
        } catch (Exception e) {
            log.warn("retention sweep failed (will retry): {}", e.toString());
        }
    }

    @Override
    public void close() throws InterruptedException {
        timer.shutdownNow();
        sweeper.shutdownNow();
        timer.awaitTermination(10, TimeUnit.SECONDS);
        sweeper.awaitTermination(10, TimeUnit.SECONDS);
    }
}
