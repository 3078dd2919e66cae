package org.minifaas.cli;

import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
        name = "logs",
        mixinStandardHelpOptions = true,
        description = {
            "Print a task's output: stdout to stdout, stderr to stderr.",
            "Without -f: the log so far, then exit 0. With -f: live until the task ends, "
                    + "exiting with its exit code as run --follow does."
        })
final class LogsCommand implements Callable<Integer> {
    /** The stored events of a stream come in one burst; this much silence means they have all been sent. */
    static final Duration REPLAYED = Duration.ofSeconds(1);

    @Mixin
    Connection conn;

    @Parameters(index = "0", paramLabel = "ID", description = "The task id.")
    String id;

    @Option(
            names = {"-f", "--follow"},
            description = "Keep following until the task ends.")
    boolean follow;

    @Option(
            names = {"-q", "--quiet"},
            description = "No [minifaas] lines on stderr.")
    boolean quiet;

    @Override
    public Integer call() throws Exception {
        Api api = conn.api();
        TaskOutput output = new TaskOutput(conn, quiet || (!follow && !conn.json));
        if (follow) {
            return output.follow(api, id, null);
        }
        boolean ended = ExitCodes.isFinal(api.task(id, null).path("status").asText());
        output.follow(api, id, ended ? null : REPLAYED);
        return ExitCodes.OK;
    }
}
