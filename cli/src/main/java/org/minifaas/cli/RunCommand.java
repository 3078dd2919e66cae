package org.minifaas.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
        name = "run",
        mixinStandardHelpOptions = true,
        description = {
            "Submit a function: the Git repository URL of a Go program and its arguments.",
            "Prints the new task's id; with --follow, streams its output live and exits with its exit code.",
            "Arguments starting with '-' go after '--': minifaas run URL -- -n 3"
        })
final class RunCommand implements Callable<Integer> {
    @Mixin
    Connection conn;

    @Parameters(index = "0", paramLabel = "URL", description = "The repository (http or https).")
    String url;

    @Parameters(index = "1..*", paramLabel = "ARGS", description = "The function's arguments.")
    List<String> args = new ArrayList<>();

    @Option(names = "--ref", paramLabel = "R", description = "A branch, tag or commit (default: the default branch).")
    String ref;

    @Option(
            names = "--timeout",
            paramLabel = "S",
            description = "The run's time limit in seconds " + "(default and maximum: the server's).")
    Integer timeout;

    @Option(
            names = "--runtime",
            paramLabel = "R",
            description = "go, node or python: which function of a repository that has several "
                    + "(default: recognised from its files).")
    String runtime;

    @Option(
            names = {"-f", "--follow"},
            description = "Stream the output live and exit with the function's code.")
    boolean follow;

    @Option(
            names = {"-q", "--quiet"},
            description = "With --follow: no [minifaas] lines on stderr.")
    boolean quiet;

    @Override
    public Integer call() throws Exception {
        Api api = conn.api();
        JsonNode record = api.create(url, args, ref, timeout, runtime);
        String id = record.path("id").asText();
        TaskOutput output = new TaskOutput(conn, quiet);
        if (!follow) {
            if (conn.json) {
                conn.out().println(record.toPrettyString());
            } else {
                conn.out().println(id);
            }
            conn.out().flush();
            output.note("task " + id + " queued; follow it with: minifaas logs -f " + id);
            return ExitCodes.OK;
        }
        output.note("task " + id + " queued");
        output.shown("queued");
        return output.follow(api, id, null);
    }
}
