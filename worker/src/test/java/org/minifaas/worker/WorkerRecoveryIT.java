package org.minifaas.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.minifaas.worker.Fixture.awaitFinal;
import static org.minifaas.worker.Fixture.awaitStatus;
import static org.minifaas.worker.Fixture.results;
import static org.minifaas.worker.Fixture.submit;

import io.nats.client.JetStreamSubscription;
import io.nats.client.Message;
import io.nats.client.PullSubscribeOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.minifaas.common.config.NatsSettings;
import org.minifaas.common.model.TaskStatus;
import org.minifaas.common.nats.NatsLayer;
import org.minifaas.common.nats.TaskQueue;
import org.minifaas.common.testing.GitHttpServer;
import org.minifaas.common.testing.NatsInspect;
import org.minifaas.common.testing.NatsTestServer;
import org.minifaas.common.testing.Poll;
import org.minifaas.common.testing.TestFiles;

/** Durability of the queue: no worker yet, a worker killed mid-task, a task nobody can finish. */
class WorkerRecoveryIT {
    static final Duration ACK_WAIT = Duration.ofSeconds(2);
    static final Duration WAIT = Duration.ofSeconds(90);
    NatsTestServer server;
    GitHttpServer git;
    NatsLayer nats;
    NatsSettings settings;
    Path workDir;

    @BeforeEach
    void start() throws Exception {
        server = NatsTestServer.start();
        git = GitHttpServer.start();
        settings = server.settings().withAckWait(ACK_WAIT);
        nats = NatsLayer.connect(settings, "recovery-test");
        workDir = Files.createTempDirectory("minifaas-recovery-");
        // the run account must be able to reach the worker directories below it
        Files.setPosixFilePermissions(workDir, PosixFilePermissions.fromString("rwx--x--x"));
    }

    @AfterEach
    void stop() throws Exception {
        nats.close();
        git.close();
        server.close();
        TestFiles.deleteTree(workDir);
    }

    Worker worker(NatsSettings s, String dir) throws Exception {
        return worker(s, dir, 1);
    }

    Worker worker(NatsSettings s, String dir, int concurrency) throws Exception {
        WorkerConfig config = Fixture.config(s, workDir.resolve(dir), Duration.ofSeconds(20));
        Worker w = new Worker(nats, Fixture.executor(config), concurrency);
        w.start();
        return w;
    }

    @Test
    void taskCreatedBeforeAnyWorkerRunsOnceOneStarts() throws Exception {
        String url = git.createRepo("echo", Functions.ECHO);
        UUID id = submit(nats, url, "queued");
        assertEquals(1, NatsInspect.taskStream(nats).getStreamState().getMsgCount());
        assertEquals(TaskStatus.PENDING, Fixture.status(nats, id).orElseThrow());
        assertEquals(0, nats.workers().live());
        try (Worker w = worker(settings, "w")) {
            Poll.until(Duration.ofSeconds(10), () -> nats.workers().live(), n -> n == 1, "the worker to register");
            assertEquals(TaskStatus.FINISHED, awaitFinal(nats, id, WAIT));
            assertEquals("0:queued\n", results(nats, id).get("stdout.txt"));
        }
        assertEquals(0, NatsInspect.taskStream(nats).getStreamState().getMsgCount());
        assertEquals(0, nats.workers().live(), "a stopped worker leaves the registry");
    }

    @Test
    void aTaskThatAlreadyFinishedIsNotRunAgain() throws Exception {
        // finished, but its acknowledgement was lost: JetStream delivers it again
        UUID id = submit(nats, git.createRepo("echo", Functions.ECHO), "again");
        nats.results(id).write(Map.of("stdout.txt", "first run\n".getBytes()));
        nats.userTasks(Fixture.USER).setStatus(id, TaskStatus.FINISHED);
        try (Worker w = worker(settings, "w")) {
            Poll.until(
                    WAIT,
                    () -> NatsInspect.taskStream(nats).getStreamState().getMsgCount(),
                    n -> n == 0,
                    "the message to be acknowledged");
        }
        assertEquals(TaskStatus.FINISHED, Fixture.status(nats, id).orElseThrow());
        assertEquals("first run\n", results(nats, id).get("stdout.txt"));
    }

    @Test
    void taskOfAWorkerKilledWithSigkillIsFinishedByAnother() throws Exception {
        String url = git.createRepo("slow", Functions.SLOW);
        Process doomed = workerProcess("doomed", Map.of());
        try {
            UUID id = submit(nats, url, "3");
            awaitStatus(nats, id, TaskStatus.EXECUTING, WAIT);
            doomed.destroyForcibly(); // SIGKILL: no shutdown hook, no nak
            assertTrue(doomed.waitFor(10, TimeUnit.SECONDS));

            try (Worker survivor = worker(settings, "survivor")) {
                assertEquals(TaskStatus.FINISHED, awaitFinal(nats, id, WAIT));
                assertEquals("done\n", results(nats, id).get("stdout.txt"));
            }
        } finally {
            doomed.destroyForcibly();
        }
    }

    /** Egress helpers (slirp4netns, namespace holders) alive on the host, but for this test JVM's own. */
    static List<String> strayEgressHelpers() {
        long self = ProcessHandle.current().pid();
        return ProcessHandle.allProcesses()
                .filter(p -> p.parent().map(ProcessHandle::pid).orElse(-1L) != self && WorkerIT.running(p.pid()))
                .map(p -> p.pid() + " " + p.info().commandLine().orElse(""))
                .filter(c -> c.contains("slirp4netns") || c.endsWith("/cat -")) // the namespace holder
                .toList();
    }

    @Test
    void aWorkerKilledWithThreeTasksRunningLeavesNothingAndANewOneFinishesThem() throws Exception {
        String marker = Long.toString(500_000 + (long) (Math.random() * 400_000));
        String url = git.createRepo("slow-marked", Functions.SLOW_WITH_CHILD);
        Process doomed = workerProcess("killed", Map.of("WORKER_CONCURRENCY", "3"));
        List<UUID> ids =
                List.of(submit(nats, url, "2", marker), submit(nats, url, "2", marker), submit(nats, url, "2", marker));
        try {
            for (UUID id : ids) {
                awaitStatus(nats, id, TaskStatus.EXECUTING, WAIT);
            }
            Poll.until(
                    WAIT, () -> WorkerIT.hostProcessesWith(marker).size(), n -> n >= 3, "the three functions to run");
            doomed.destroyForcibly(); // SIGKILL: no shutdown hook, nothing of the worker's code runs
            assertTrue(doomed.waitFor(10, TimeUnit.SECONDS));
            Poll.until(
                    Duration.ofSeconds(10),
                    () -> WorkerIT.hostProcessesWith(marker),
                    List::isEmpty,
                    "the functions and their children to die with their worker");
            // and the functions' network helpers (slirp4netns and its namespace holder) with them, those of the
            // networks it made ahead too (this JVM's own, for its other tests, are left alone)
            Poll.until(
                    Duration.ofSeconds(10),
                    WorkerRecoveryIT::strayEgressHelpers,
                    List::isEmpty,
                    "no egress helper left");
        } finally {
            doomed.destroyForcibly();
        }
        // a new worker on the same work directory: it clears what the dead one left, then gets the tasks again
        Process next = workerProcess("killed", Map.of("WORKER_CONCURRENCY", "3"));
        try {
            for (UUID id : ids) {
                TaskStatus status = awaitFinal(nats, id, WAIT);
                Map<String, String> files = results(nats, id);
                assertEquals(TaskStatus.FINISHED, status, files::toString);
                assertEquals("done\n", results(nats, id).get("stdout.txt"));
            }
            Poll.until(
                    Duration.ofSeconds(10),
                    () -> Fixture.leftovers(workDir.resolve("killed").resolve("tasks")),
                    List::isEmpty,
                    "no task directory left");
        } finally {
            next.destroy();
            next.waitFor(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void aNatsOutageWhileTasksRunLosesNoResult() throws Exception {
        String marker = Long.toString(100_000 + (long) (Math.random() * 300_000));
        String url = git.createRepo("slow-marked", Functions.SLOW_WITH_CHILD);
        try (Worker w = worker(settings, "outage", 3)) {
            List<UUID> ids = List.of(
                    submit(nats, url, "2", marker), submit(nats, url, "2", marker), submit(nats, url, "2", marker));
            for (UUID id : ids) {
                awaitStatus(nats, id, TaskStatus.EXECUTING, WAIT);
            }
            Poll.until(WAIT, () -> WorkerIT.hostProcessesWith(marker).size(), n -> n >= 3, "the functions to run");
            server.kill();
            // the functions end while NATS is down: their results must wait for it, not be lost
            Poll.until(WAIT, () -> WorkerIT.hostProcessesWith(marker), List::isEmpty, "the functions to end");
            server.restart();
            for (UUID id : ids) {
                assertEquals(
                        TaskStatus.FINISHED,
                        Poll.until(
                                WAIT,
                                () -> {
                                    try {
                                        return Fixture.status(nats, id).orElse(null);
                                    } catch (Exception e) {
                                        return null; // still reconnecting
                                    }
                                },
                                s -> s != null && s.isFinal(),
                                "task " + id + " to finish"));
                assertEquals("done\n", results(nats, id).get("stdout.txt"));
            }
        }
    }

    @Test
    void aRestartedWorkerRemovesWhatAKilledOneLeft() throws Exception {
        Path left = Files.createDirectories(workDir.resolve("restarted")
                .resolve("tasks")
                .resolve(UUID.randomUUID().toString())
                .resolve("src"));
        Files.writeString(left.resolve("main.go"), "package main\n");
        Process worker = workerProcess("restarted", Map.of());
        try {
            Poll.until(WAIT, () -> nats.workers().live(), n -> n == 1, "the worker to register");
            assertEquals(
                    List.of(), Fixture.leftovers(workDir.resolve("restarted").resolve("tasks")));
        } finally {
            worker.destroy();
            worker.waitFor(30, TimeUnit.SECONDS);
        }
    }

    /** A worker in a process of its own, as deployed. */
    Process workerProcess(String name, Map<String, String> extraEnv) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-cp",
                        System.getProperty("java.class.path"),
                        WorkerMain.class.getName())
                .redirectErrorStream(true)
                .redirectOutput(workDir.resolve(name + ".log").toFile());
        pb.environment()
                .putAll(Map.of(
                        "NATS_SERVER_ADDRESS", server.url(),
                        "TASK_ACK_WAIT_SECONDS", Long.toString(ACK_WAIT.toSeconds()),
                        "RUN_AS_USER", Fixture.runAsUser(),
                        "BUILD_AS_USER", Fixture.buildAsUser(),
                        "WORKER_WORK_DIR", workDir.resolve(name).toString(),
                        "WORKER_CACHE_DIR", Fixture.SHARED_CACHE.toString(),
                        "REPO_ALLOW_PRIVATE_ADDRESSES", "true"));
        pb.environment().putAll(extraEnv);
        return pb.start();
    }

    @Test
    void sigtermLetsTheRunningTaskFinishThenExits() throws Exception {
        String url = git.createRepo("slow", Functions.SLOW);
        Process worker = workerProcess("graceful", Map.of("WORKER_SHUTDOWN_SECONDS", "30"));
        try {
            UUID id = submit(nats, url, "2");
            awaitStatus(nats, id, TaskStatus.EXECUTING, WAIT);
            worker.destroy(); // SIGTERM
            assertTrue(worker.waitFor(30, TimeUnit.SECONDS), "worker did not exit after SIGTERM");
            // finished by the stopping worker itself: no other worker exists
            assertEquals(TaskStatus.FINISHED, Fixture.status(nats, id).orElseThrow());
            assertEquals("done\n", results(nats, id).get("stdout.txt"));
        } finally {
            worker.destroyForcibly();
        }
    }

    @Test
    void sigtermPastTheGraceHandsTheTaskBack() throws Exception {
        String url = git.createRepo("slow", Functions.SLOW);
        Process worker = workerProcess("impatient", Map.of("WORKER_SHUTDOWN_SECONDS", "1"));
        try {
            UUID id = submit(nats, url, "8");
            awaitStatus(nats, id, TaskStatus.EXECUTING, WAIT);
            worker.destroy(); // SIGTERM
            assertTrue(worker.waitFor(30, TimeUnit.SECONDS), "worker did not exit after SIGTERM");
            assertEquals(1, NatsInspect.backlog(nats), "the task went back to the queue");
            assertEquals(TaskStatus.PENDING, Fixture.status(nats, id).orElseThrow());
            try (Worker next = worker(settings, "next")) {
                assertEquals(TaskStatus.FINISHED, awaitFinal(nats, id, WAIT));
            }
        } finally {
            worker.destroyForcibly();
        }
    }

    @Test
    void taskWhoseDeliveriesAreUsedUpEndsAsUnexpectedError() throws Exception {
        NatsSettings oneDelivery = settings.withMaxDeliveries(1);
        UUID id = submit(nats, git.createRepo("echo", Functions.ECHO), "never");
        // a worker that takes the task and dies without a word: a plain pull of the shared consumer
        nats.taskQueue().ensure();
        JetStreamSubscription dead = nats.connection()
                .jetStream()
                .subscribe(TaskQueue.SUBJECT, PullSubscribeOptions.bind(TaskQueue.STREAM, TaskQueue.CONSUMER));
        List<Message> taken = dead.fetch(1, Duration.ofSeconds(5));
        assertEquals(1, taken.size());
        assertEquals(1, taken.get(0).metaData().deliveredCount());
        dead.unsubscribe();

        try (NatsLayer layer = NatsLayer.connect(oneDelivery, "limited");
                Worker w = new Worker(
                        layer,
                        Fixture.executor(Fixture.config(oneDelivery, workDir.resolve("w"), Duration.ofSeconds(20))),
                        1)) {
            w.start();
            assertEquals(TaskStatus.UNEXPECTED_ERROR, awaitFinal(nats, id, WAIT));
            String error = results(nats, id).get("error.txt");
            assertTrue(error.startsWith("given up after 1 deliveries"), error);
        }
        assertEquals(0, NatsInspect.taskStream(nats).getStreamState().getMsgCount(), "the task left the queue");
    }

    /**
     * The next delivery of a queued task, taken from the workers' consumer as a worker that never answers would (the
     * other tasks taken are acknowledged): JetStream counts it in the message's delivery count.
     */
    Message nextDelivery(UUID id) throws Exception {
        nats.taskQueue().ensure();
        JetStreamSubscription sub = nats.connection()
                .jetStream()
                .subscribe(TaskQueue.SUBJECT, PullSubscribeOptions.bind(TaskQueue.STREAM, TaskQueue.CONSUMER));
        try {
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (System.nanoTime() < deadline) {
                // one at a time: a pull for more stays open and takes the redeliveries of a handed-back task
                for (Message m : sub.fetch(1, Duration.ofSeconds(5))) {
                    if (TaskQueue.decode(m).taskId().equals(id)) {
                        return m;
                    }
                    m.ack();
                }
            }
            throw new AssertionError("task " + id + " was not delivered");
        } finally {
            sub.unsubscribe();
        }
    }

    /** Deliveries 1 and 2 of a queued task: the first handed back at once (nak), both kept. */
    List<Message> twoDeliveries(UUID id) throws Exception {
        Message first = nextDelivery(id);
        first.nak();
        Message second = nextDelivery(id);
        assertEquals(2, second.metaData().deliveredCount());
        return List.of(first, second);
    }

    /** Hands one delivery to a worker of its own (not started: it takes nothing from the queue itself). */
    void handleOnce(NatsSettings s, Message delivery) throws Exception {
        try (NatsLayer layer = NatsLayer.connect(s, "limited");
                Worker w = new Worker(
                        layer,
                        Fixture.executor(Fixture.config(
                                s, workDir.resolve("once-" + UUID.randomUUID()), Duration.ofSeconds(20))),
                        1)) {
            w.handle(delivery);
        }
    }

    @Test
    void aRedeliveryPastTheLimitOfATaskRunningHereIsLeftToTheRun() throws Exception {
        // JetStream counts the redeliveries of a task whose progress signals a stalled link held back: a high count
        // does not mean its worker died. This worker runs the task when such a delivery reaches it.
        NatsSettings oneDelivery = settings.withMaxDeliveries(1);
        UUID id = submit(nats, git.createRepo("slow", Functions.SLOW), "3");
        try (NatsLayer layer = NatsLayer.connect(oneDelivery, "limited");
                Worker w = new Worker(
                        layer,
                        Fixture.executor(Fixture.config(oneDelivery, workDir.resolve("w"), Duration.ofSeconds(20))),
                        1)) {
            List<Message> deliveries = twoDeliveries(id);
            // this worker runs the task from its first delivery...
            Thread run = new Thread(() -> {
                try {
                    w.handle(deliveries.get(0));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            run.start();
            awaitStatus(nats, id, TaskStatus.EXECUTING, WAIT);
            // ...when the second, past the limit, reaches it
            w.handle(deliveries.get(1));
            // was given up at once: UNEXPECTED_ERROR "given up after 1 deliveries", while the function still ran
            assertEquals(TaskStatus.EXECUTING, Fixture.status(nats, id).orElseThrow());
            run.join(WAIT.toMillis());
            assertEquals(TaskStatus.FINISHED, awaitFinal(nats, id, WAIT));
            assertEquals("done\n", results(nats, id).get("stdout.txt"));
        }
    }

    @Test
    void aTaskThatEndedIsAcknowledgedNotGivenUp() throws Exception {
        // its end was stored, its acknowledgement lost, and its deliveries are used up
        NatsSettings oneDelivery = settings.withMaxDeliveries(1);
        UUID id = submit(nats, git.createRepo("echo-ended", Functions.ECHO), "x");
        nats.results(id)
                .write(Map.of("stdout.txt", "the real output\n".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        nats.userTasks(Fixture.USER).setStatus(id, TaskStatus.FINISHED);
        Message late = twoDeliveries(id).get(1);
        handleOnce(oneDelivery, late);
        // was UNEXPECTED_ERROR, its output replaced by "given up after 1 deliveries"
        assertEquals(TaskStatus.FINISHED, Fixture.status(nats, id).orElseThrow());
        assertEquals(Map.of("stdout.txt", "the real output\n"), results(nats, id));
    }

    @Test
    void aTaskThatALiveWorkerRunsIsHandedBackNotGivenUp() throws Exception {
        // its worker is alive (it beats) but its link to NATS stalled past the ack wait
        NatsSettings oneDelivery = settings.withMaxDeliveries(1);
        UUID id = submit(nats, git.createRepo("echo-elsewhere", Functions.ECHO), "x");
        nats.userTasks(Fixture.USER).update(id, r -> r.started("stalled-worker", 1));
        nats.workers().beat("stalled-worker", "{}");
        Message late = twoDeliveries(id).get(1);
        handleOnce(oneDelivery, late);
        assertEquals(TaskStatus.EXECUTING, Fixture.status(nats, id).orElseThrow()); // was UNEXPECTED_ERROR
        // once that worker is gone (its key expired or removed), the task is given up as before
        nats.workers().leave("stalled-worker");
        Message later = nextDelivery(id); // handed back with a delay of the ack wait
        handleOnce(oneDelivery, later);
        assertEquals(TaskStatus.UNEXPECTED_ERROR, Fixture.status(nats, id).orElseThrow());
    }

    @Test
    void aTaskRunningLongerThanTheRetentionKeepsItsRecord() throws Exception {
        // a record lives TASK_RETENTION_SECONDS from its last write; this task runs longer than that after its start
        NatsSettings shortLived = settings.withRetention(Duration.ofSeconds(2));
        try (NatsLayer layer = NatsLayer.connect(shortLived, "short-retention");
                Worker w = new Worker(
                        layer,
                        Fixture.executor(Fixture.config(shortLived, workDir.resolve("w"), Duration.ofSeconds(20))),
                        1)) {
            UUID id = submit(layer, git.createRepo("slow-retained", Functions.SLOW), "5");
            w.start();
            // was 404 from about 2 s into the run on, and the FINISHED outcome stored for no record
            assertEquals(TaskStatus.FINISHED, awaitFinal(layer, id, WAIT));
            assertEquals("done\n", results(layer, id).get("stdout.txt"));
        }
    }
}
