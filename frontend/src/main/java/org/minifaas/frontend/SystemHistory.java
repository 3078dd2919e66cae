package org.minifaas.frontend;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The last hour of backlog, running tasks and worker counts, for the admin page's chart. The backend keeps no
 * history, so this samples {@link SystemService#status()} every {@code interval} into a ring buffer in memory: it
 * starts empty with the frontend, and each frontend replica has its own.
 */
final class SystemHistory implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SystemHistory.class);
    static final Duration INTERVAL = Duration.ofSeconds(30);
    static final Duration WINDOW = Duration.ofHours(1);

    /** One sample; {@code numberOfWorkers} is null when the observer's decision is not a number. */
    public record Sample(Instant at, long backlog, long running, long liveWorkers, Long numberOfWorkers) {}

    private final Callable<SystemService.SystemStatus> source;
    private final Clock clock;
    private final Duration interval;
    private final Duration window;
    private final int capacity;
    private final Deque<Sample> samples = new ArrayDeque<>();
    private ScheduledExecutorService timer;

    SystemHistory(Callable<SystemService.SystemStatus> source, Clock clock, Duration interval, Duration window) {
        this.source = source;
        this.clock = clock;
        this.interval = interval;
        this.window = window;
        this.capacity = (int) (window.toMillis() / interval.toMillis()) + 2;
    }

    static SystemHistory of(SystemService system) {
        return new SystemHistory(system::status, Clock.systemUTC(), INTERVAL, WINDOW);
    }

    /** Samples now, then every interval, on one daemon thread. */
    synchronized void start() {
        if (timer != null) {
            return;
        }
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "system-history");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleAtFixedRate(this::sample, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Takes one sample; a failure (NATS away) leaves a gap in the chart instead of a made-up value. */
    void sample() {
        try {
            SystemService.SystemStatus s = source.call();
            add(new Sample(clock.instant(), s.backlog(), s.running(), s.liveWorkers(), number(s.numberOfWorkers())));
        } catch (Exception e) {
            log.debug("system history: no sample: {}", e.toString());
        }
    }

    synchronized void add(Sample sample) {
        samples.addLast(sample);
        while (samples.size() > capacity) {
            samples.removeFirst();
        }
    }

    /** The samples of the last window, oldest first. */
    synchronized List<Sample> lastWindow() {
        Instant from = clock.instant().minus(window);
        return samples.stream().filter(s -> !s.at().isBefore(from)).toList();
    }

    private static Long number(String value) {
        try {
            return value == null ? null : Long.valueOf(value.trim());
        } catch (NumberFormatException e) {
            return null;
        }
    }

    @Override
    public synchronized void close() {
        if (timer != null) {
            timer.shutdownNow();
            timer = null;
        }
    }
}
