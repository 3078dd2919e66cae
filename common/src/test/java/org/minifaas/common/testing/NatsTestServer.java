package org.minifaas.common.testing;

import io.nats.NatsServerRunner;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;
import io.nats.Output;
import org.minifaas.common.config.NatsSettings;

/** A real nats-server with JetStream on a free port and a temporary store, for integration tests. */
public final class NatsTestServer implements AutoCloseable {
    private final NatsServerRunner runner;
    private final Path storeDir;

    private NatsTestServer(NatsServerRunner runner, Path storeDir) {
        this.runner = runner;
        this.storeDir = storeDir;
    }

    public static NatsTestServer start(String... extraArgs) {
        try {
            Path store = Files.createTempDirectory("minifaas-nats-");
            List<String> args = new java.util.ArrayList<>(List.of("-sd", store.toString()));
            args.addAll(List.of(extraArgs));
            NatsServerRunner runner = NatsServerRunner.builder()
                    .jetstream()
                    .customArgs(args)
                    .output(new QuietOutput())
                    .build();
            return new NatsTestServer(runner, store);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start nats-server (is it installed and on PATH?)", e);
        }
    }

    /** Keeps the server's banner out of the test log; errors still show. */
    private static final class QuietOutput implements Output {
        @Override public void setLevel(Level level) { }
        @Override public void error(Supplier<String> msg) { System.err.println(msg.get()); }
        @Override public void error(String msg) { System.err.println(msg); }
        @Override public void warning(Supplier<String> msg) { }
        @Override public void warning(String msg) { }
        @Override public void info(Supplier<String> msg) { }
        @Override public void info(String msg) { }
        @Override public boolean isLogger() { return false; }
        @Override public Logger getLogger() { return null; }
    }

    public String url() {
        return runner.getURI();
    }

    public int port() {
        return runner.getPort();
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
