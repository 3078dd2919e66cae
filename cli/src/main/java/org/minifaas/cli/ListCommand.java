package org.minifaas.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "list", mixinStandardHelpOptions = true, description = "List your tasks, newest first.")
final class ListCommand implements Callable<Integer> {
    @Mixin
    Connection conn;

    @Option(
            names = "--status",
            paramLabel = "S",
            description = "Only tasks in this status: PENDING, EXECUTING, FINISHED, FINISHED_WITH_ERRORS, "
                    + "UNEXPECTED_ERROR, CANCELLED.")
    String status;

    @Option(
            names = "--limit",
            paramLabel = "N",
            defaultValue = "20",
            description = "At most N tasks (default ${DEFAULT-VALUE}); pages are followed as needed.")
    int limit;

    /** Tests set a small page to cover following nextCursor. */
    @Option(names = "--page-size", hidden = true, defaultValue = "100")
    int pageSize;

    @Override
    public Integer call() throws Exception {
        if (limit < 1) {
            throw new picocli.CommandLine.ParameterException(conn.mixee.commandLine(), "--limit must be at least 1");
        }
        Api api = conn.api();
        ArrayNode tasks = Api.JSON.createArrayNode();
        String cursor = null;
        do {
            JsonNode page = api.page(status, Math.min(Math.min(100, pageSize), limit - tasks.size()), cursor);
            page.path("data").forEach(t -> {
                if (tasks.size() < limit) {
                    tasks.add(t);
                }
            });
            JsonNode next = page.get("nextCursor");
            cursor = next == null || next.isNull() ? null : next.asText();
        } while (cursor != null && tasks.size() < limit);
        if (conn.json) {
            conn.out().println(tasks.toPrettyString());
        } else {
            String format = "%-36s  %-20s  %-20s  %s%n";
            conn.out().printf(format, "ID", "STATUS", "CREATED", "URL");
            for (JsonNode t : tasks) {
                conn.out()
                        .printf(
                                format,
                                t.path("id").asText(),
                                t.path("status").asText(),
                                created(t.path("createdAt").asText("")),
                                t.path("url").asText(""));
            }
        }
        conn.out().flush();
        return ExitCodes.OK;
    }

    /** 2026-11-27T10:30:00.120Z → 2026-11-27 10:30:00Z */
    static String created(String iso) {
        return iso.length() >= 19 ? iso.substring(0, 10) + " " + iso.substring(11, 19) + "Z" : iso;
    }
}
