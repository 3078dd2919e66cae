package org.minifaas.worker;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.LongSupplier;

/**
 * Recent answers to "which commit does this ref name now?", and when one may stand for a new question. A task runs
 * the commit its ref named at some moment after the task was queued: an answer to a question sent after that moment
 * is as good as a new one. So a burst of tasks of one function, queued before the worker gets to them, asks the Git
 * server about once per slot instead of once per task, while a task queued after a push still asks after it.
 *
 * <p>"Sent after the task was queued" is told without clocks: the question is sent while the worker runs a task it
 * got from the queue, and every task stored at or below that delivery's {@link QueuePosition#storedThrough()} was
 * stored before that delivery, so before the question. Two more conditions only narrow it: the task's own creation
 * time is before the question by the worker's clock (should the queue's stream be made anew, its sequences start
 * again from 1), and the answer is at most {@link #MAX_AGE} old. Keyed by the exact repository URL and ref; at most
 * {@link #CAPACITY} of them, the least recently used leave first.
 */
final class RefAnswers {
    static final Duration MAX_AGE = Duration.ofSeconds(10);
    static final int CAPACITY = 256;

    /** Asks the Git server; empty when it cannot tell (never kept). */
    @FunctionalInterface
    interface Question {
        Optional<String> ask() throws IOException, InterruptedException;
    }

    private record Answer(String commit, long storedThrough, Instant askedAt, long askedNanos) {}

    private final Clock clock;
    private final LongSupplier nanos;
    private final Map<String, Answer> answers = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Answer> eldest) {
            return size() > CAPACITY;
        }
    };

    RefAnswers() {
        this(Clock.systemUTC(), System::nanoTime);
    }

    RefAnswers(Clock clock, LongSupplier nanos) {
        this.clock = clock;
        this.nanos = nanos;
    }

    /**
     * The commit {@code ref} of {@code url} names, for a task at {@code position} in the queue (null: not from the
     * queue, always asked) made at {@code created} (the latest moment it may have been made; null: unknown): a kept
     * answer that may stand for it (above), or else {@code question}'s, kept for the next tasks when it tells one.
     */
    Optional<String> commit(String url, String ref, QueuePosition position, Instant created, Question question)
            throws IOException, InterruptedException {
        String key = url + '\n' + (ref == null ? "" : ref);
        if (position != null) {
            Answer kept;
            synchronized (answers) {
                kept = answers.get(key);
            }
            if (kept != null
                    && position.sequence() <= kept.storedThrough()
                    && (created == null || kept.askedAt().isAfter(created))
                    && nanos.getAsLong() - kept.askedNanos() <= MAX_AGE.toNanos()) {
                return Optional.of(kept.commit());
            }
        }
        Instant askedAt = clock.instant();
        long askedNanos = nanos.getAsLong();
        Optional<String> commit = question.ask();
        if (commit.isPresent() && position != null) {
            synchronized (answers) {
                Answer before = answers.get(key);
                if (before == null || before.askedNanos() < askedNanos) {
                    // what was stored before the earlier question was stored before this later one too
                    long storedThrough = before == null
                            ? position.storedThrough()
                            : Math.max(before.storedThrough(), position.storedThrough());
                    answers.put(key, new Answer(commit.get(), storedThrough, askedAt, askedNanos));
                }
            }
        }
        return commit;
    }
}
