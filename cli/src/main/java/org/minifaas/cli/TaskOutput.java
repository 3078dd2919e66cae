package org.minifaas.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Following one task on a terminal: its output to our stdout and stderr as it comes, its phases and its end as
 * {@code [minifaas]} lines on stderr (unless quiet), and the exit code its end maps to.
 */
final class TaskOutput {
    private final Connection conn;
    private final boolean quiet;
    private String lastLabel;

    TaskOutput(Connection conn, boolean quiet) {
        this.conn = conn;
        this.quiet = quiet;
    }

    void note(String text) {
        if (!quiet) {
            conn.err().println("[minifaas] " + text);
            conn.err().flush();
        }
    }

    /** Remembers a label already shown (the "queued" of a new task), so the stream's first status repeats nothing. */
    void shown(String label) {
        lastLabel = label;
    }

    void event(SseParser.Event e) {
        if (conn.json) {
            ObjectNode o = Api.JSON.createObjectNode();
            o.put("id", e.id());
            o.put("event", e.name());
            o.put("data", e.data());
            conn.out().println(o);
            conn.out().flush();
            return;
        }
        switch (e.name()) {
            case "stdout" -> {
                conn.out().print(e.data() + "\n");
                conn.out().flush();
            }
            case "stderr" -> {
                conn.err().print(e.data() + "\n");
                conn.err().flush();
            }
            case "status" -> {
                String label = label(e.data());
                if (label != null && !label.equals(lastLabel)) {
                    lastLabel = label;
                    note(label);
                }
            }
            default -> {
                // unknown events are for newer clients
            }
        }
    }

    /** "queued", "cloning", "building", "cached", "running"... from a status event's data. */
    static String label(String data) {
        try {
            JsonNode s = Api.JSON.readTree(data);
            JsonNode phase = s.get("phase");
            if (phase != null && phase.isTextual()) {
                return phase.asText();
            }
            String status = s.path("status").asText("");
            return switch (status) {
                // the end has its own line, with the exit code and the error
                case "", "FINISHED", "FINISHED_WITH_ERRORS", "UNEXPECTED_ERROR", "CANCELLED" -> null;
                case "PENDING" -> "queued";
                case "EXECUTING" -> null; // taken by a worker: its phases follow
                default -> status;
            };
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * Follows the task to its end and returns the exit code for it; with {@code idleStop}, stops after that long
     * without an event instead, returning 0.
     */
    int follow(Api api, String id, Duration idleStop) throws InterruptedException {
        AtomicBoolean following = new AtomicBoolean(true);
        Thread hook = null;
        if (conn.realProcess()) {
            PrintWriter err = conn.err();
            hook = new Thread(
                    () -> {
                        if (following.get()) {
                            err.println();
                            err.println(
                                    "Stopped following; the task keeps running. Follow it again with: minifaas logs -f "
                                            + id);
                            err.flush();
                        }
                    },
                    "minifaas-ctrl-c");
            Runtime.getRuntime().addShutdownHook(hook);
        }
        try {
            SseParser.Event end = new LogFollower(api, id, Duration.ofSeconds(1)).follow(this::event, idleStop);
            if (end == null) {
                return ExitCodes.OK;
            }
            if (conn.json) {
                event(end);
            }
            return ended(api, id, end);
        } finally {
            following.set(false);
            if (hook != null) {
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                } catch (IllegalStateException e) {
                    // shutting down already
                }
            }
        }
    }

    private int ended(Api api, String id, SseParser.Event end) {
        JsonNode endData;
        try {
            endData = Api.JSON.readTree(end.data());
        } catch (IOException e) {
            endData = Api.JSON.createObjectNode();
        }
        JsonNode record = api.task(id, null);
        String status = record.path("status").asText(endData.path("status").asText(""));
        if (!ExitCodes.isFinal(status)) {
            // the end event is the truth about the end; the record is written in the same step, so this is rare
            status = endData.path("status").asText("");
        }
        if (!ExitCodes.isFinal(status)) {
            throw new ApiException("the log of " + id + " ended without a final status");
        }
        Integer exitCode =
                record.path("exitCode").isInt() ? record.get("exitCode").asInt() : null;
        StringBuilder summary = new StringBuilder(status);
        if (exitCode != null) {
            summary.append(", exit code ").append(exitCode);
        }
        if (record.path("error").isTextual() && !record.get("error").asText().isBlank()) {
            summary.append(": ").append(record.get("error").asText());
        }
        note(summary.toString());
        return ExitCodes.forTask(status, exitCode);
    }
}
