package org.minifaas.common.testing;

import io.nats.NatsServerRunner;
import io.nats.Output;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.minifaas.common.config.NatsSettings;

/**
 * A real nats-server with JetStream on a free port and a temporary store, for integration tests; it can be
 * killed with SIGKILL and restarted on the same port and store, as an outage.
 */
public final class NatsTestServer implements AutoCloseable {
    private volatile NatsServerRunner runner;
    private final Path storeDir;
    private final List<String> args;
    private final int port;

    private NatsTestServer(NatsServerRunner runner, Path storeDir, List<String> args) {
        this.runner = runner;
        this.storeDir = storeDir;
        this.args = args;
        this.port = runner.getPort();
    }

    public static NatsTestServer start(String... extraArgs) {
        try {
            Path store = Files.createTempDirectory("minifaas-nats-");
            List<String> args = new java.util.ArrayList<>(List.of("-sd", store.toString()));
            args.addAll(List.of(extraArgs));
            return new NatsTestServer(run(args, null), store, args);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start nats-server (is it installed and on PATH?)", e);
        }
    }

    private static NatsServerRunner run(List<String> args, Integer port) throws IOException {
        NatsServerRunner.Builder builder =
                NatsServerRunner.builder().jetstream().customArgs(args).output(new QuietOutput());
        if (port != null) {
            builder.port(port);
        }
        return builder.build();
    }

    /** SIGKILL: no flush, no goodbye to the clients. */
    public void kill() throws InterruptedException {
        String store = storeDir.toString(); // on this server's command line only
        List<ProcessHandle> servers = ProcessHandle.allProcesses()
                .filter(p -> p.info().commandLine().orElse("").contains(store))
                .toList();
        if (servers.isEmpty()) {
            throw new IllegalStateException("no nats-server process with store " + store);
        }
        servers.forEach(ProcessHandle::destroyForcibly);
        for (ProcessHandle p : servers) {
            p.onExit().join();
        }
    }

    /** Starts the server again on the same port and store (after {@link #kill}). */
    public void restart() throws IOException {
        runner = run(args, port);
    }

    /** Keeps the server's banner out of the test log; errors still show. */
    private static final class QuietOutput implements Output {
        @Override
        public void setLevel(Level level) {}

        @Override
        public void error(Supplier<String> msg) {
            System.err.println(msg.get());
        }

        @Override
        public void error(String msg) {
            System.err.println(msg);
        }

        @Override
        public void warning(Supplier<String> msg) {}

        @Override
        public void warning(String msg) {}

        @Override
        public void info(Supplier<String> msg) {}

        @Override
        public void info(String msg) {}

        @Override
        public boolean isLogger() {
            return false;
        }

        @Override
        public Logger getLogger() {
            return null;
        }
    }

    public String url() {
        return runner.getURI();
    }

    public int port() {
        return port;
    }

    public NatsSettings settings() {
        return NatsSettings.defaults(url());
    }

    @Override
    public void close() throws Exception {
        runner.close();
        TestFiles.deleteTree(storeDir);
    }
}
