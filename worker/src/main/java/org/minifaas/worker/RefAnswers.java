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
 * the commit its ref named at some moment after the task was created: an answer to a question asked after that
 * moment (strictly) is as good as a new one. So a burst of tasks of one function, created before the worker gets to them, asks
 * the Git server once instead of once per task, while a task created after a push still asks (its answer must be
 * newer than the push). Answers are also never older than {@link #MAX_AGE}, which bounds what a clock set ahead of the
 * frontend's could reuse. Keyed by the exact repository URL and ref; at most {@link #CAPACITY} of them, the least
 * recently used leave first.
 */
final class RefAnswers {
    static final Duration MAX_AGE = Duration.ofSeconds(10);
    static final int CAPACITY = 256;

    /** Asks the Git server; empty when it cannot tell (never kept). */
    @FunctionalInterface
    interface Question {
        Optional<String> ask() throws IOException, InterruptedException;
    }

    private record Answer(String commit, Instant askedAt, long askedNanos) {}

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
     * The commit {@code ref} of {@code url} names, for a task created at {@code created} (null: unknown, always
     * asked): a kept answer to a question asked after {@code created}, or else {@code question}'s, kept for the next
     * tasks when it tells one.
     */
    Optional<String> commit(String url, String ref, Instant created, Question question)
            throws IOException, InterruptedException {
        String key = url + '\n' + (ref == null ? "" : ref);
        if (created != null) {
            Answer kept;
            synchronized (answers) {
                kept = answers.get(key);
            }
            if (kept != null
                    && kept.askedAt().isAfter(created)
                    && nanos.getAsLong() - kept.askedNanos() <= MAX_AGE.toNanos()) {
                return Optional.of(kept.commit());
            }
        }
        Instant askedAt = clock.instant();
        long askedNanos = nanos.getAsLong();
        Optional<String> commit = question.ask();
        commit.ifPresent(c -> {
            synchronized (answers) {
                Answer before = answers.get(key);
                if (before == null || before.askedNanos() < askedNanos) {
                    answers.put(key, new Answer(c, askedAt, askedNanos));
                }
            }
        });
        return commit;
    }
}
