package org.minifaas.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

@Command(
        name = "cancel",
        mixinStandardHelpOptions = true,
        description = "Cancel a task that has not ended (a queued one never runs; a running one is killed).")
final class CancelCommand implements Callable<Integer> {
    @Mixin
    Connection conn;

    @Parameters(index = "0", paramLabel = "ID", description = "The task id.")
    String id;

    @Override
    public Integer call() throws Exception {
        Api.Answer a = conn.api().cancel(id);
        if (conn.json) {
            conn.out().println(a.body().toPrettyString());
        } else if (a.status() == 202) {
            conn.out().println("cancelling " + id + ": its worker is stopping it");
        } else {
            conn.out().println("cancelled " + id + ": it will not run");
        }
        conn.out().flush();
        return ExitCodes.OK;
    }
}
