package org.minifaas.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(
        name = "admin",
        mixinStandardHelpOptions = true,
        description = "Administration (your e-mail must be in the server's ADMIN_USERS: --email or the cookie's).",
        subcommands = {AdminCommand.Status.class, AdminCommand.Inject.class})
final class AdminCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "Missing command: status or inject");
    }

    @Command(
            name = "status",
            mixinStandardHelpOptions = true,
            description = "The system's status: congestion, workers, backlog, the observer's events.")
    static final class Status implements Callable<Integer> {
        @Mixin
        Connection conn;

        @Override
        public Integer call() throws Exception {
            JsonNode s = conn.api().systemStatus();
            if (conn.json) {
                conn.out().println(s.toPrettyString());
            } else {
                conn.out().println("status:   " + s.path("status").asText());
                conn.out()
                        .println("workers:  " + s.path("number_of_workers").asText() + " (live "
                                + s.path("live_workers").asText() + ")");
                conn.out().println("backlog:  " + s.path("backlog").asText());
                conn.out().println("running:  " + s.path("running").asText());
                if (s.path("data").size() > 0) {
                    conn.out().println("events:");
                    s.path("data").forEach(e -> conn.out().println("  " + e.asText()));
                }
            }
            conn.out().flush();
            return ExitCodes.OK;
        }
    }

    @Command(
            name = "inject",
            mixinStandardHelpOptions = true,
            description = "Upload a file to the injector's object store.")
    static final class Inject implements Callable<Integer> {
        @Mixin
        Connection conn;

        @Parameters(index = "0", paramLabel = "FILE", description = "The file to upload.")
        Path file;

        @Override
        public Integer call() throws Exception {
            if (!Files.isRegularFile(file)) {
                throw new ApiException("not a file: " + file);
            }
            JsonNode r = conn.api().inject(file);
            if (conn.json) {
                conn.out().println(r.toPrettyString());
            } else {
                conn.out()
                        .println("injected "
                                + r.path("data").asText(file.getFileName().toString()));
            }
            conn.out().flush();
            return ExitCodes.OK;
        }
    }
}
