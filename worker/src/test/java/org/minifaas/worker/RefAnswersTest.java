package org.minifaas.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.minifaas.common.model.Task;

/** When a recent answer to a ref question may stand for a new one: only for tasks made before it was asked. */
class RefAnswersTest {
    static final String URL = "https://git.example/app";
    final AtomicLong nanos = new AtomicLong(1_000_000_000L);
    final AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-11-28T12:00:00Z"));
    final RefAnswers answers = new RefAnswers(clock(), nanos::get);
    final AtomicInteger asked = new AtomicInteger();
    final AtomicReference<String> remote = new AtomicReference<>("a".repeat(40));

    Clock clock() {
        return new Clock() {
            @Override
            public ZoneOffset getZone() {
                return ZoneOffset.UTC;
            }

            @Override
            public Clock withZone(java.time.ZoneId zone) {
                return this;
            }

            @Override
            public Instant instant() {
                return now.get();
            }
        };
    }

    Optional<String> commit(String ref, Instant created) throws Exception {
        return answers.commit(URL, ref, created, () -> {
            asked.incrementAndGet();
            return Optional.ofNullable(remote.get());
        });
    }

    void later(long millis) {
        now.set(now.get().plusMillis(millis));
        nanos.addAndGet(millis * 1_000_000L);
    }

    @Test
    void tasksMadeBeforeAQuestionShareItsAnswer() throws Exception {
        Instant made = now.get();
        later(5);
        assertEquals(Optional.of("a".repeat(40)), commit("main", made));
        remote.set("b".repeat(40)); // pushed after the question: the tasks made before it may run either commit
        later(5);
        assertEquals(Optional.of("a".repeat(40)), commit("main", made));
        assertEquals(Optional.of("a".repeat(40)), commit("main", made.minusSeconds(1)));
        assertEquals(1, asked.get());
    }

    @Test
    void aTaskMadeAfterTheQuestionAsksAgainAndGetsThePush() throws Exception {
        commit("main", now.get().minusMillis(1));
        later(3);
        remote.set("b".repeat(40));
        Instant made = now.get();
        later(1);
        assertEquals(Optional.of("b".repeat(40)), commit("main", made));
        assertEquals(2, asked.get());
        // made at the very instant the kept answer was asked: that question may not have seen its push
        commit("main", now.get());
        assertEquals(3, asked.get());
    }

    @Test
    void anAnswerOlderThanItsMaximumAgeIsAskedAgainWhateverTheClocksSay() throws Exception {
        Instant made = now.get().minusMillis(1);
        commit("main", made);
        nanos.addAndGet(RefAnswers.MAX_AGE.toNanos() + 1); // the wall clock stands still (or was set back)
        commit("main", made);
        assertEquals(2, asked.get());
    }

    @Test
    void unknownCreationTimesOtherRefsAndUnansweredQuestionsAreAlwaysAsked() throws Exception {
        Instant made = now.get().minusMillis(1);
        commit("main", made);
        commit("main", null);
        commit("dev", made);
        commit(null, made);
        assertEquals(4, asked.get());
        assertEquals(Optional.of("a".repeat(40)), commit(null, made), "the default branch's answer is kept apart");
        assertEquals(4, asked.get());

        remote.set(null); // the server could not tell: nothing is kept
        commit("gone", made);
        commit("gone", made);
        assertEquals(6, asked.get());
    }

    @Test
    void aTaskTimeIsReadAsTheLatestMomentItMayStandFor() {
        Task task = new Task(
                java.util.UUID.randomUUID(), "u", URL, java.util.List.of(), null, 0, null, "2026-11-28T12:00:00.123Z");
        assertEquals(Instant.parse("2026-11-28T12:00:00.124Z"), TaskExecutor.createdAt(task));
        Task legacy = new Task(java.util.UUID.randomUUID(), "u", URL, java.util.List.of(), null, 0, null, null);
        assertEquals(null, TaskExecutor.createdAt(legacy));
        Task garbled = new Task(java.util.UUID.randomUUID(), "u", URL, java.util.List.of(), null, 0, null, "yesterday");
        assertEquals(null, TaskExecutor.createdAt(garbled));
    }
}
