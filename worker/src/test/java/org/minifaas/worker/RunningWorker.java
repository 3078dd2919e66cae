package org.minifaas.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.UnaryOperator;
import org.minifaas.common.config.NatsSettings;
import org.minifaas.common.nats.NatsLayer;
import org.minifaas.common.testing.GitHttpServer;
import org.minifaas.common.testing.NatsTestServer;
import org.minifaas.common.testing.TestFiles;

/** A worker as deployed, for a test class: real nats-server, real Git server on loopback, real sandbox. */
final class RunningWorker implements AutoCloseable {
    final NatsTestServer server;
    final GitHttpServer git;
    final NatsLayer nats;
    final Path workDir;
    final TaskExecutor executor;
    final Worker worker;

    private RunningWorker(
            NatsTestServer server,
            GitHttpServer git,
            NatsLayer nats,
            Path workDir,
            TaskExecutor executor,
            Worker worker) {
        this.server = server;
        this.git = git;
        this.nats = nats;
        this.workDir = workDir;
        this.executor = executor;
        this.worker = worker;
    }

    /** A worker running {@code concurrency} tasks at a time with the given time limit. */
    static RunningWorker start(String name, Duration runTimeout, int concurrency) throws Exception {
        return start(name, runTimeout, concurrency, UnaryOperator.identity());
    }

    /** As {@link #start(String, Duration, int)}, with the NATS settings changed by {@code settings}. */
    static RunningWorker start(String name, Duration runTimeout, int concurrency, UnaryOperator<NatsSettings> settings)
            throws Exception {
        NatsTestServer server = NatsTestServer.start();
        GitHttpServer git = GitHttpServer.start();
        NatsSettings natsSettings = settings.apply(server.settings());
        NatsLayer nats = NatsLayer.connect(natsSettings, name);
        Path workDir = Files.createTempDirectory("minifaas-" + name + "-");
        TaskExecutor executor = Fixture.executor(Fixture.config(natsSettings, workDir, runTimeout));
        Worker worker = new Worker(nats, executor, concurrency);
        worker.start();
        return new RunningWorker(server, git, nats, workDir, executor, worker);
    }

    /** After each test: every task directory is gone. */
    void assertNoTaskDirectoryLeft() throws Exception {
        executor.awaitCleanup();
        assertEquals(List.of(), Fixture.leftovers(executor.tasksDir()));
    }

    @Override
    public void close() throws Exception {
        worker.close(Duration.ofSeconds(5));
        nats.close();
        git.close();
        server.close();
        TestFiles.deleteTree(workDir);
    }
}
