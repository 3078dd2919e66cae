package org.minifaas.worker;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.function.IntSupplier;
import org.minifaas.common.model.TaskRecord;
import org.minifaas.common.model.TaskStatus;

/**
 * The worker's metrics. Everything about a task is read from its final execution record, in {@link #taskEnded}: the
 * pipeline is not timed twice, and the metrics say what the record says.
 */
public final class WorkerMetrics {
    /** Histogram buckets (seconds) shared by the phase timings: a cached run in ms up to a slow build in minutes. */
    private static final Duration[] BUCKETS =
            seconds(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300);

    private final MeterRegistry registry;
    private final Map<TaskStatus, Counter> finished = new EnumMap<>(TaskStatus.class);
    private final Timer queue;
    private final Timer clone;
    private final Timer build;
    private final Timer run;
    private final Counter cloneSkipped;
    private final Counter cacheHits;
    private final Counter cacheMisses;
    private final Counter deadLettered;

    public WorkerMetrics(MeterRegistry registry) {
        this.registry = registry;
        for (TaskStatus status : TaskStatus.values()) {
            if (status.isFinal()) { // every final status from the start at 0: rates need no first occurrence
                finished.put(
                        status,
                        Counter.builder("minifaas.tasks.finished")
                                .tag("status", status.name())
                                .description("Tasks that reached a final status in this worker")
                                .register(registry));
            }
        }
        queue = timer("minifaas.task.queue", "From creation to being taken by a worker (queueMs)");
        clone = timer(
                "minifaas.task.clone", "Fetching the source, or asking for the ref's commit when skipped (cloneMs)");
        build = timer("minifaas.task.build", "Building, or finding the binary in the cache (buildMs)");
        run = timer("minifaas.task.run", "The function's own run (runMs)");
        cloneSkipped = Counter.builder("minifaas.task.clone.skipped")
                .description("Runs of a known commit without a clone")
                .register(registry);
        cacheHits = Counter.builder("minifaas.binary.cache.hits")
                .description("Builds skipped: the compiled function was cached")
                .register(registry);
        cacheMisses = Counter.builder("minifaas.binary.cache.misses")
                .description("Functions compiled: nothing cached for the source tree")
                .register(registry);
        deadLettered = Counter.builder("minifaas.tasks.dead.lettered")
                .description("Tasks given up after TASK_MAX_DELIVERIES deliveries (their workers died)")
                .register(registry);
    }

    /** Metrics that go nowhere (tests and embeddings without an ops server). */
    public static WorkerMetrics none() {
        return new WorkerMetrics(new CompositeMeterRegistry());
    }

    /** The slots of this process and how many run a task now, read at each scrape. */
    public void watchSlots(IntSupplier busy, int slots) {
        Gauge.builder("minifaas.worker.busy.slots", busy::getAsInt)
                .description("Slots running a task now")
                .register(registry);
        Gauge.builder("minifaas.worker.slots", () -> slots)
                .description("Tasks this worker runs at once")
                .register(registry);
    }

    /** A task left this worker with {@code record} final: its status counted, its phases timed. */
    void taskEnded(TaskRecord record) {
        Counter counter = finished.get(record.status());
        if (counter == null) {
            return; // not final: nothing ended
        }
        counter.increment();
        observe(queue, record.queueMs());
        observe(clone, record.cloneMs());
        observe(build, record.buildMs());
        observe(run, record.runMs());
        if (Boolean.TRUE.equals(record.cloneSkipped())) {
            cloneSkipped.increment();
        }
        if (record.binaryCached() != null) { // null: the build was not reached
            (record.binaryCached() ? cacheHits : cacheMisses).increment();
        }
    }

    /** A task given up after too many deliveries (it is counted as ended too, with its record). */
    void deadLettered(TaskRecord record) {
        deadLettered.increment();
        taskEnded(record);
    }

    private Timer timer(String name, String description) {
        return Timer.builder(name)
                .description(description)
                .serviceLevelObjectives(BUCKETS)
                .register(registry);
    }

    private static void observe(Timer timer, Long millis) {
        if (millis != null) {
            timer.record(Duration.ofMillis(millis));
        }
    }

    private static Duration[] seconds(double... values) {
        Duration[] out = new Duration[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = Duration.ofNanos((long) (values[i] * 1_000_000_000L));
        }
        return out;
    }
}
