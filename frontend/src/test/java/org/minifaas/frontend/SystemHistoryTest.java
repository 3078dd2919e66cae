package org.minifaas.frontend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class SystemHistoryTest {
    /** A clock the test moves by hand. */
    static final class ManualClock extends Clock {
        final AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-11-27T10:00:00Z"));

        @Override
        public Instant instant() {
            return now.get();
        }

        void advance(Duration d) {
            now.updateAndGet(t -> t.plus(d));
        }

        @Override
        public ZoneOffset getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }
    }

    static SystemService.SystemStatus status(long backlog, String workers) {
        return new SystemService.SystemStatus("OK", workers, 1, backlog, 2, List.of(), List.of());
    }

    @Test
    void keepsTheLastHourOldestFirstAndDropsOlderSamples() {
        ManualClock clock = new ManualClock();
        AtomicLong backlog = new AtomicLong();
        SystemHistory history = new SystemHistory(
                () -> status(backlog.getAndIncrement(), "3"), clock, Duration.ofSeconds(30), Duration.ofHours(1));
        for (int i = 0; i < 200; i++) { // 100 minutes of samples
            history.sample();
            clock.advance(Duration.ofSeconds(30));
        }
        List<SystemHistory.Sample> last = history.lastWindow();
        // the newest sample was taken 30 s ago: 120 samples fit the hour up to now
        assertEquals(120, last.size());
        assertEquals(199, last.get(last.size() - 1).backlog());
        assertEquals(80, last.get(0).backlog());
        assertEquals(3L, last.get(0).numberOfWorkers());
        assertEquals(2, last.get(0).running());
        assertEquals(1, last.get(0).liveWorkers());
    }

    @Test
    void aFailedSampleIsAGapAndAnOddWorkerCountIsNull() {
        ManualClock clock = new ManualClock();
        AtomicLong calls = new AtomicLong();
        SystemHistory history = new SystemHistory(
                () -> {
                    if (calls.incrementAndGet() == 2) {
                        throw new IOException("nats away");
                    }
                    return status(calls.get(), "many");
                },
                clock,
                Duration.ofSeconds(30),
                Duration.ofHours(1));
        for (int i = 0; i < 3; i++) {
            history.sample();
            clock.advance(Duration.ofSeconds(30));
        }
        List<SystemHistory.Sample> last = history.lastWindow();
        assertEquals(
                List.of(1L, 3L),
                last.stream().map(SystemHistory.Sample::backlog).toList());
        assertNull(last.get(0).numberOfWorkers());
    }

    @Test
    void anEmptyHistoryAfterAStart() {
        SystemHistory history =
                new SystemHistory(() -> status(0, "0"), new ManualClock(), Duration.ofSeconds(30), Duration.ofHours(1));
        assertEquals(List.of(), history.lastWindow());
    }
}
