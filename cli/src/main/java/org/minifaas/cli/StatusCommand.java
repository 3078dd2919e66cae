package org.minifaas.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "status", mixinStandardHelpOptions = true, description = "Print a task's record.")
final class StatusCommand implements Callable<Integer> {
    @Mixin
    Connection conn;

    @Parameters(index = "0", paramLabel = "ID", description = "The task id.")
    String id;

    @Option(
            names = "--wait",
            paramLabel = "S",
            description = "Wait up to S seconds (at most 60) for the task to end before answering.")
    Integer wait;

    @Override
    public Integer call() throws Exception {
        JsonNode r = conn.api().task(id, wait);
        if (conn.json) {
            conn.out().println(r.toPrettyString());
        } else {
            print(conn.out(), r);
        }
        conn.out().flush();
        return ExitCodes.OK;
    }

    static void print(PrintWriter out, JsonNode r) {
        line(out, "id", text(r, "id"));
        line(out, "status", text(r, "status") + " (" + text(r, "code") + ")");
        line(out, "url", text(r, "url"));
        line(out, "ref", text(r, "ref"));
        line(out, "commit", text(r, "commit"));
        line(out, "runtime", text(r, "toolchain") != null ? text(r, "toolchain") : text(r, "runtime"));
        List<String> params = new ArrayList<>();
        r.path("parameters").forEach(p -> params.add(p.asText()));
        line(out, "parameters", String.join(" ", params));
        line(out, "created", text(r, "createdAt"));
        line(out, "started", text(r, "startedAt"));
        line(out, "finished", text(r, "finishedAt"));
        List<String> times = new ArrayList<>();
        for (String t : List.of("queue", "clone", "build", "run")) {
            String ms = text(r, t + "Ms");
            if (ms != null) {
                times.add(t + " " + ms + " ms");
            }
        }
        line(out, "timings", times.isEmpty() ? null : String.join(", ", times));
        line(out, "exit code", text(r, "exitCode"));
        line(out, "worker", text(r, "workerId"));
        line(out, "error", text(r, "error"));
        JsonNode cb = r.path("callback");
        if (cb.isObject()) {
            line(out, "callback", text(cb, "url") + " " + text(cb, "state"));
        }
    }

    private static String text(JsonNode r, String field) {
        JsonNode v = r.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }

    private static void line(PrintWriter out, String name, String value) {
        if (value != null && !value.isEmpty()) {
            out.printf("%-12s%s%n", name + ":", value);
        }
    }
}
