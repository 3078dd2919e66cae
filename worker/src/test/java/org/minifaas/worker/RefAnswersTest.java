package org.minifaas.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.minifaas.common.model.Task;

/**
 * When a recent answer to a ref question may stand for a new one: only for tasks stored in the queue before the
 * question was sent, told by their stream sequences, whatever the clocks say.
 */
class RefAnswersTest {
    static final String URL = "https://git.example/app";
    static final String A = "a".repeat(40);
    static final String B = "b".repeat(40);
    final AtomicLong nanos = new AtomicLong(1_000_000_000L);
    final AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-11-28T12:00:00Z"));
    final RefAnswers answers = new RefAnswers(clock(), nanos::get);
    final AtomicInteger asked = new AtomicInteger();
    final AtomicReference<String> remote = new AtomicReference<>(A);

    Clock clock() {
        return new Clock() {
            @Override
            public ZoneOffset getZone() {
                return ZoneOffset.UTC;
            }

            @Override
            public Clock withZone(ZoneId zone) {
                return this;
            }

            @Override
            public Instant instant() {
                return now.get();
            }
        };
    }

    /** The commit for a task with stream sequence {@code seq}, delivered with {@code pending} stored after it. */
    Optional<String> commit(String ref, long seq, long pending, Instant created) throws Exception {
        return answers.commit(URL, ref, new QueuePosition(seq, seq + pending), created, () -> {
            asked.incrementAndGet();
            return Optional.ofNullable(remote.get());
        });
    }

    Instant earlier() {
        return now.get().minusSeconds(1);
    }

    void later(long millis) {
        now.set(now.get().plusMillis(millis));
        nanos.addAndGet(millis * 1_000_000L);
    }

    @Test
    void tasksStoredBeforeAQuestionShareItsAnswer() throws Exception {
        assertEquals(Optional.of(A), commit("main", 10, 5, earlier())); // 11 to 15 were stored before it was asked
        remote.set(B); // pushed after the question: tasks stored before it may run either commit
        later(5);
        assertEquals(Optional.of(A), commit("main", 12, 3, earlier()));
        assertEquals(Optional.of(A), commit("main", 15, 0, earlier()));
        assertEquals(1, asked.get());
        // stored after the delivery the question was asked for: it may have been made after the push
        assertEquals(Optional.of(B), commit("main", 16, 0, earlier()));
        assertEquals(2, asked.get());
    }

    @Test
    void aWorkerClockAheadOfTheFrontendsReusesNothingStoredAfterTheQuestion() throws Exception {
        // the reviewer's case: the worker's clock 2 s ahead; the push lands after the question, the task after it
        now.set(Instant.parse("2026-11-28T12:00:02Z"));
        commit("main", 20, 0, Instant.parse("2026-11-28T11:59:59Z"));
        remote.set(B);
        Instant madeAfterThePush =
                Instant.parse("2026-11-28T12:00:01.001Z"); // before the question by the worker's clock
        assertEquals(Optional.of(B), commit("main", 21, 0, madeAfterThePush));
        assertEquals(2, asked.get());
    }

    @Test
    void aLaterAnswerCoversWhatTheEarlierOneCoveredAndReplacesIt() throws Exception {
        commit("main", 10, 20, earlier()); // covers up to 30
        later(5);
        remote.set(B);
        commit("main", 40, 0, null); // stored after the first question: asks, and the answer is B
        assertEquals(2, asked.get());
        later(5);
        assertEquals(
                Optional.of(B), commit("main", 25, 0, earlier()), "stored before the first question, so before this");
        assertEquals(2, asked.get());
    }

    @Test
    void aStreamMadeAnewIsCaughtByTheCreationTime() throws Exception {
        commit("main", 500, 0, earlier());
        later(5);
        remote.set(B);
        // the queue's stream was made anew: sequence 3 is below 500 but the task was made after the question
        Instant made = now.get();
        later(1);
        assertEquals(Optional.of(B), commit("main", 3, 0, made));
        assertEquals(2, asked.get());
    }

    @Test
    void anAnswerOlderThanItsMaximumAgeIsAskedAgainWhateverTheClocksSay() throws Exception {
        commit("main", 10, 5, earlier());
        nanos.addAndGet(RefAnswers.MAX_AGE.toNanos() + 1); // the wall clock stands still (or was set back)
        commit("main", 11, 0, earlier());
        assertEquals(2, asked.get());
    }

    @Test
    void tasksNotFromTheQueueOtherRefsAndUnansweredQuestionsAreAlwaysAsked() throws Exception {
        commit("main", 10, 5, earlier());
        assertEquals(Optional.of(A), answers.commit(URL, "main", null, null, () -> {
            asked.incrementAndGet();
            return Optional.of(A);
        }));
        commit("dev", 11, 0, earlier());
        commit(null, 12, 0, earlier());
        assertEquals(4, asked.get());
        assertEquals(Optional.of(A), commit(null, 12, 0, earlier()), "the default branch's answer is kept apart");
        assertEquals(Optional.of(A), commit("main", 13, 0, null), "no creation time: the sequence alone decides");
        assertEquals(4, asked.get());

        remote.set(null); // the server could not tell: nothing is kept
        commit("gone", 14, 5, earlier());
        commit("gone", 15, 0, earlier());
        assertEquals(6, asked.get());
    }

    @Test
    void aTaskTimeIsReadAsTheLatestMomentItMayStandFor() {
        assertEquals(
                Instant.parse("2026-11-28T12:00:00.124Z"),
                TaskExecutor.createdAt(task("2026-11-28T12:00:00.123Z")),
                "written to the millisecond, cut down");
        assertNull(TaskExecutor.createdAt(task(null)));
        assertNull(TaskExecutor.createdAt(task("yesterday")));
    }

    static Task task(String createdAt) {
        return new Task(UUID.randomUUID(), "u", URL, List.of(), null, 0, null, createdAt);
    }
}
