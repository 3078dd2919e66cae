package org.minifaas.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.minifaas.worker.Fixture.awaitFinal;
import static org.minifaas.worker.Fixture.record;
import static org.minifaas.worker.Fixture.results;
import static org.minifaas.worker.Fixture.submit;
import static org.minifaas.worker.Fixture.task;

import io.nats.client.Message;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.minifaas.common.model.Task;
import org.minifaas.common.model.TaskRecord;
import org.minifaas.common.model.TaskStatus;
import org.minifaas.common.nats.WebhookQueue;
import org.minifaas.common.testing.Poll;

/** The execution record a worker writes, refs and per-task time limits: real NATS, Git over HTTP, go, sandbox. */
class TaskRecordIT {
    static final Duration LIMIT = Duration.ofSeconds(4);
    static final Duration WAIT = Duration.ofSeconds(90);
    static RunningWorker stack;

    @BeforeAll
    static void start() throws Exception {
        stack = RunningWorker.start("record-test", LIMIT, 2);
    }

    @AfterAll
    static void stop() throws Exception {
        stack.close();
    }

    @AfterEach
    void noTaskDirectoryIsLeft() throws Exception {
        stack.assertNoTaskDirectoryLeft();
    }

    /** Runs a task to its end; returns its record. */
    static TaskRecord run(String url, String ref, int timeoutSeconds, String... parameters) throws Exception {
        UUID id = submit(stack.nats, task(url, ref, timeoutSeconds, parameters));
        awaitFinal(stack.nats, id, WAIT);
        return record(stack.nats, id);
    }

    @Test
    void theRecordTellsWhatRanWhereAndHowLong() throws Exception {
        String name = "record-" + UUID.randomUUID();
        Map<String, String> files = new HashMap<>(Functions.ECHO);
        files.put("README.md", name + "\n"); // a tree of its own: compiled on its first run
        String url = stack.git.createRepo(name, files);
        long start = System.currentTimeMillis();
        TaskRecord first = run(url, null, 0, "x");
        long elapsed = System.currentTimeMillis() - start;

        assertEquals(TaskStatus.FINISHED, first.status());
        assertEquals(stack.git.head(name), first.commit());
        assertEquals(0, first.exitCode());
        assertEquals(false, first.binaryCached());
        assertEquals(1, first.attempts());
        assertNotNull(first.workerId());
        assertNull(first.error());
        assertNotNull(first.startedAt());
        assertNotNull(first.finishedAt());
        for (Long ms : new Long[] {first.queueMs(), first.cloneMs(), first.buildMs(), first.runMs()}) {
            assertNotNull(ms, first::toString);
            assertTrue(ms >= 0 && ms <= elapsed, first::toString);
        }
        assertTrue(first.cloneMs() + first.buildMs() + first.runMs() <= elapsed, first::toString);
        assertTrue(first.buildMs() > first.runMs(), "compiling takes longer than echoing: " + first);

        TaskRecord second = run(url, null, 0, "y");
        assertEquals(TaskStatus.FINISHED, second.status());
        assertEquals(true, second.binaryCached());
        assertEquals(first.commit(), second.commit());
        assertTrue(second.buildMs() < first.buildMs(), "a cached binary is found faster than compiled: " + second);
    }

    /** Prints the file data.txt of its repository (its working directory): a run without a clone still has it. */
    static final String READS_ITS_FILE = """
            package main

            import (
            \t"fmt"
            \t"os"
            )

            func main() {
            \tb, err := os.ReadFile("data.txt")
            \tif err != nil {
            \t\tfmt.Println("no data:", err)
            \t\tos.Exit(4)
            \t}
            \tfmt.Print(string(b))
            }
            """;

    @Test
    void aKnownCommitRunsWithoutACloneAndAMovedBranchIsClonedAgain() throws Exception {
        String name = "known-" + UUID.randomUUID();
        String url = stack.git.createRepo(
                name,
                Map.of("go.mod", Functions.GO_MOD, "main.go", READS_ITS_FILE, "data.txt", "first " + name + "\n"));
        TaskRecord first = run(url, null, 0);
        assertEquals(TaskStatus.FINISHED, first.status(), first::toString);
        assertEquals(false, first.cloneSkipped(), "the first run clones: " + first);

        UUID id = submit(stack.nats, task(url, null, 0));
        awaitFinal(stack.nats, id, WAIT);
        TaskRecord again = record(stack.nats, id);
        assertEquals(TaskStatus.FINISHED, again.status(), again::toString);
        assertEquals(true, again.cloneSkipped(), "the same commit again: no clone: " + again);
        assertEquals(true, again.binaryCached());
        assertEquals(first.commit(), again.commit());
        assertEquals(
                "first " + name + "\n",
                results(stack.nats, id).get("stdout.txt"),
                "its repository's files are its working directory all the same");
        assertTrue(again.cloneMs() < first.cloneMs(), "resolving a ref is quicker than cloning: " + again);

        // the branch moves: the new commit is cloned (and its new tree built)
        String moved = stack.git.commit(name, Map.of("data.txt", "second\n"), "second");
        UUID third = submit(stack.nats, task(url, null, 0));
        awaitFinal(stack.nats, third, WAIT);
        TaskRecord r = record(stack.nats, third);
        assertEquals(moved, r.commit());
        assertEquals(false, r.cloneSkipped(), r::toString);
        assertEquals("second\n", results(stack.nats, third).get("stdout.txt"));
        // and the old commit, named by its id, still runs from the caches
        TaskRecord old = run(url, first.commit(), 0);
        assertEquals(true, old.cloneSkipped(), old::toString);
        assertEquals(first.commit(), old.commit());
    }

    @Test
    void tasksQueuedBeforeARefQuestionShareItsAnswer() throws Exception {
        String name = "burst-" + UUID.randomUUID();
        String url = stack.git.createRepo(
                name, Map.of("go.mod", Functions.GO_MOD, "main.go", READS_ITS_FILE, "data.txt", "burst\n"));
        TaskRecord first = run(url, null, 0);
        assertEquals(TaskStatus.FINISHED, first.status(), first::toString);
        // both slots busy, so that the burst below is all queued before any of it is asked about
        String slow = stack.git.createRepo("slow-" + UUID.randomUUID(), Functions.SLOW);
        List<UUID> busy =
                List.of(submit(stack.nats, task(slow, null, 0, "2")), submit(stack.nats, task(slow, null, 0, "2")));
        Poll.until(
                WAIT,
                () -> busy.stream().allMatch(id -> status(id) == TaskStatus.EXECUTING),
                all -> all,
                "both slots busy");
        int asked = stack.git.refQuestions(name);
        List<UUID> burst = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            burst.add(submit(stack.nats, task(url, null, 0)));
        }
        for (UUID id : burst) {
            awaitFinal(stack.nats, id, WAIT);
            TaskRecord r = record(stack.nats, id);
            assertEquals(TaskStatus.FINISHED, r.status(), r::toString);
            assertEquals(first.commit(), r.commit());
            assertEquals(true, r.cloneSkipped(), r::toString);
        }
        // the two slots free and each asks at most once; the other tasks were queued before those questions
        int questions = stack.git.refQuestions(name) - asked;
        assertTrue(questions >= 1 && questions <= 2, questions + " ref questions for 6 tasks");
        for (UUID id : busy) {
            awaitFinal(stack.nats, id, WAIT);
        }
    }

    private static TaskStatus status(UUID id) {
        try {
            return record(stack.nats, id).status();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void aKeptCommitIsNeverRunForAnotherRepository() throws Exception {
        String victim = "kept-a-" + UUID.randomUUID();
        String urlA = stack.git.createRepo(
                victim, Map.of("go.mod", Functions.GO_MOD, "main.go", READS_ITS_FILE, "data.txt", "secret of A\n"));
        TaskRecord a = run(urlA, null, 0);
        assertEquals(TaskStatus.FINISHED, a.status(), a::toString);
        String other = "kept-b-" + UUID.randomUUID();
        String urlB = stack.git.createRepo(
                other, Map.of("go.mod", Functions.GO_MOD, "main.go", READS_ITS_FILE, "data.txt", "B\n"));
        assertEquals(TaskStatus.FINISHED, run(urlB, null, 0).status()); // B is a repository this worker knows too

        // B's task names A's commit: B has no such commit, so it must fail as a clone of B, never run A's code
        UUID id = submit(stack.nats, task(urlB, a.commit(), 0));
        awaitFinal(stack.nats, id, WAIT);
        TaskRecord r = record(stack.nats, id);
        assertEquals(TaskStatus.FINISHED_WITH_ERRORS, r.status(), r::toString);
        assertTrue(r.cloneSkipped() == null || !r.cloneSkipped(), r::toString);
        assertEquals("ref '" + a.commit() + "' not found in the repository", r.error());
        assertTrue(!String.valueOf(results(stack.nats, id).get("stdout.txt")).contains("secret of A"));
    }

    @Test
    void aFailingFunctionLeavesItsExitCodeAndReason() throws Exception {
        TaskRecord r = run(stack.git.createRepo("exit3-" + UUID.randomUUID(), Functions.EXIT_3), null, 0);
        assertEquals(TaskStatus.FINISHED_WITH_ERRORS, r.status());
        assertEquals(3, r.exitCode());
        assertEquals("exit code 3", r.error());
        assertNotNull(r.runMs());
    }

    @Test
    void aFailedCloneHasNoCommitAndNoRun() throws Exception {
        String url = stack.git.url("missing-" + UUID.randomUUID());
        TaskRecord r = run(url, null, 0);
        assertEquals(TaskStatus.FINISHED_WITH_ERRORS, r.status());
        assertEquals("clone failed: repository not found or not reachable within 30 s: " + url, r.error());
        assertNull(r.commit());
        assertNotNull(r.cloneMs());
        assertNull(r.buildMs());
        assertNull(r.runMs());
        assertNull(r.exitCode());
    }

    @Test
    void aRefSelectsTheTagTheBranchOrTheCommitToRun() throws Exception {
        String name = "refs-" + UUID.randomUUID();
        String url = stack.git.createRepo(name, Functions.printing("version 1"));
        String v1 = stack.git.head(name);
        String v2 = stack.git.commit(name, Functions.printing("version 2"), "second");
        stack.git.tag(name, "v2.0");
        String v3 = stack.git.commit(name, Functions.printing("version 3"), "third");

        Map<String, String> expected = Map.of(
                "",
                "version 3",
                "main",
                "version 3",
                "v2.0",
                "version 2",
                v1,
                "version 1",
                v2.toUpperCase(),
                "version 2");
        Map<String, String> commits = Map.of("", v3, "main", v3, "v2.0", v2, v1, v1, v2.toUpperCase(), v2);
        for (Map.Entry<String, String> e : expected.entrySet()) {
            String ref = e.getKey().isEmpty() ? null : e.getKey();
            UUID id = submit(stack.nats, task(url, ref, 0));
            assertEquals(TaskStatus.FINISHED, awaitFinal(stack.nats, id, WAIT), () -> "ref " + ref);
            assertEquals(e.getValue() + "\n", results(stack.nats, id).get("stdout.txt"), "ref " + ref);
            TaskRecord r = record(stack.nats, id);
            assertEquals(commits.get(e.getKey()), r.commit(), "ref " + ref);
            assertEquals(ref, r.ref());
        }
    }

    @Test
    void unknownRefsAndUnsafeRefsAreClearTaskErrors() throws Exception {
        String url = stack.git.createRepo("badrefs-" + UUID.randomUUID(), Functions.ECHO);
        Map<String, String> cases = Map.of(
                "no-such-branch",
                "ref 'no-such-branch' not found in the repository",
                "1111111111111111111111111111111111111111",
                "ref '1111111111111111111111111111111111111111' not found in the repository",
                "--upload-pack=touch /tmp/pwned",
                "invalid ref '--upload-pack=touch /tmp/pwned': must not start with '-'",
                "main..other",
                "invalid ref 'main..other': must not contain '..'",
                "main~1",
                "invalid ref 'main~1': must not contain any of ~^:?*[\\",
                "a b",
                "invalid ref 'a b': must not contain whitespace or control characters",
                "line\nforged",
                "invalid ref 'line?forged': must not contain whitespace or control characters",
                "x".repeat(256),
                "invalid ref '" + "x".repeat(100) + "...': longer than 255 characters");
        for (Map.Entry<String, String> c : cases.entrySet()) {
            UUID id = submit(stack.nats, task(url, c.getKey(), 0));
            assertEquals(TaskStatus.FINISHED_WITH_ERRORS, awaitFinal(stack.nats, id, WAIT), c.getKey());
            assertEquals(c.getValue() + "\n", results(stack.nats, id).get("error.txt"));
            TaskRecord r = record(stack.nats, id);
            assertEquals(c.getValue(), r.error());
            assertNull(r.commit());
            assertNull(r.runMs());
        }
    }

    @Test
    void aTaskMayAskForLessTimeThanTheWorkerGivesButNotMore() throws Exception {
        String url = stack.git.createRepo("timeout-" + UUID.randomUUID(), Functions.SLOW);
        TaskRecord shorter = run(url, null, 1, "30");
        assertEquals(TaskStatus.FINISHED_WITH_ERRORS, shorter.status());
        assertEquals("timed out after 1 s", shorter.error());
        assertNull(shorter.exitCode());
        assertTrue(shorter.runMs() >= 1000 && shorter.runMs() < LIMIT.toMillis(), shorter::toString);

        TaskRecord longer = run(url, null, 3600, "30");
        assertEquals("timed out after " + LIMIT.toSeconds() + " s", longer.error());
        assertTrue(longer.runMs() >= LIMIT.toMillis(), longer::toString);

        TaskRecord within = run(url, null, 3, "1");
        assertEquals(TaskStatus.FINISHED, within.status());
        assertEquals(true, within.binaryCached());
    }

    @Test
    void aTaskWithACallbackHasItsWebhookQueuedOnceItEnds() throws Exception {
        String url = stack.git.createRepo("hook-" + UUID.randomUUID(), Functions.ECHO);
        Task t = task(url, null, 0, "x");
        UUID id = submit(
                stack.nats,
                new Task(
                        t.taskId(),
                        t.userId(),
                        url,
                        t.parameters(),
                        null,
                        0,
                        "https://example.com/hook",
                        t.createdAt()));
        assertEquals(TaskStatus.FINISHED, awaitFinal(stack.nats, id, WAIT));
        Message m = stack.nats.webhooks().consumer().next(Duration.ofSeconds(10));
        assertNotNull(m, "no webhook job queued");
        assertEquals(new WebhookQueue.Job(id, Fixture.USER), WebhookQueue.decode(m));
    }
}
