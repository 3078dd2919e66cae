package org.minifaas.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.minifaas.common.model.Task;
import org.minifaas.common.model.TaskRecord;
import org.minifaas.common.model.TaskStatus;

/** What the worker's metrics make of final records: one count per end, the record's own timings. */
class WorkerMetricsTest {
    final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    final WorkerMetrics metrics = new WorkerMetrics(registry);

    static TaskRecord started() {
        return TaskRecord.pending(new Task(UUID.randomUUID(), "u", "https://example.com/f.git", List.of()))
                .started("worker-1", 1);
    }

    double finished(TaskStatus status) {
        return registry.get("minifaas.tasks.finished")
                .tag("status", status.name())
                .counter()
                .count();
    }

    long samples(String phase) {
        return registry.get("minifaas.task." + phase).timer().count();
    }

    @Test
    void everyFinalStatusIsThereFromTheStart() {
        for (TaskStatus status : List.of(
                TaskStatus.FINISHED,
                TaskStatus.FINISHED_WITH_ERRORS,
                TaskStatus.UNEXPECTED_ERROR,
                TaskStatus.CANCELLED)) {
            assertEquals(0, finished(status), status.name());
        }
        assertEquals(4, registry.find("minifaas.tasks.finished").counters().size());
    }

    @Test
    void aFinishedRecordCountsItsStatusTimingsAndCache() {
        metrics.taskEnded(started()
                .finished(TaskStatus.FINISHED, "abc", 120L, 2_000L, 7L, 0, false, null)
                .withCloneSkipped(false));
        metrics.taskEnded(started()
                .finished(TaskStatus.FINISHED_WITH_ERRORS, "abc", 15L, 1L, 3L, 1, true, "exit code 1")
                .withCloneSkipped(true));
        assertEquals(1, finished(TaskStatus.FINISHED));
        assertEquals(1, finished(TaskStatus.FINISHED_WITH_ERRORS));
        for (String phase : List.of("queue", "clone", "build", "run")) {
            assertEquals(2, samples(phase), phase);
        }
        assertEquals(10, registry.get("minifaas.task.run").timer().totalTime(TimeUnit.MILLISECONDS), 0.001);
        assertEquals(2_001, registry.get("minifaas.task.build").timer().totalTime(TimeUnit.MILLISECONDS), 0.001);
        assertEquals(1, registry.get("minifaas.binary.cache.hits").counter().count());
        assertEquals(1, registry.get("minifaas.binary.cache.misses").counter().count());
        assertEquals(1, registry.get("minifaas.task.clone.skipped").counter().count());
    }

    @Test
    void aTaskCancelledBeforeItRanCountsOnlyItsStatus() {
        metrics.taskEnded(TaskRecord.pending(new Task(UUID.randomUUID(), "u", "https://example.com/f.git", List.of()))
                .cancelled("cancelled before it ran"));
        assertEquals(1, finished(TaskStatus.CANCELLED));
        assertEquals(0, samples("queue"));
        assertEquals(0, samples("run"));
        assertEquals(0, registry.get("minifaas.binary.cache.misses").counter().count());
    }

    @Test
    void aRecordThatIsNotFinalCountsNothing() {
        metrics.taskEnded(started());
        assertEquals(
                0,
                registry.find("minifaas.tasks.finished").counters().stream()
                        .mapToDouble(c -> c.count())
                        .sum());
        assertEquals(0, samples("queue"));
    }

    @Test
    void aTaskGivenUpIsDeadLetteredAndFinished() {
        metrics.deadLettered(started()
                .finished(
                        TaskStatus.UNEXPECTED_ERROR,
                        null,
                        null,
                        null,
                        null,
                        null,
                        null,
                        "given up after 3 deliveries"));
        assertEquals(1, registry.get("minifaas.tasks.dead.lettered").counter().count());
        assertEquals(1, finished(TaskStatus.UNEXPECTED_ERROR));
        assertEquals(1, samples("queue"));
        assertEquals(0, samples("run"));
    }

    @Test
    void slotGaugesReadTheWorkerAtEachScrape() {
        AtomicInteger busy = new AtomicInteger();
        metrics.watchSlots(busy::get, 3);
        busy.set(2);
        assertEquals(2, registry.get("minifaas.worker.busy.slots").gauge().value());
        assertEquals(3, registry.get("minifaas.worker.slots").gauge().value());
    }
}
