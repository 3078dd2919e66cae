package org.minifaas.cli;

import java.util.ArrayList;
import java.util.List;

/**
 * Server-Sent Events, line by line (the WHATWG rules the server's stream needs): {@code id:}, {@code event:},
 * {@code data:} (several lines joined by newlines), comments, and a blank line to dispatch.
 */
final class SseParser {
    record Event(String id, String name, String data) {}

    private String id;
    private String name;
    private final List<String> data = new ArrayList<>();

    /** Feeds one line (without its terminator); the event it completes, or null. */
    Event accept(String line) {
        if (line.isEmpty()) {
            Event e = data.isEmpty() && name == null
                    ? null
                    : new Event(id, name == null ? "message" : name, String.join("\n", data));
            id = null;
            name = null;
            data.clear();
            return e;
        }
        if (line.startsWith(":")) {
            return null; // a comment: keep-alive
        }
        int colon = line.indexOf(':');
        String field = colon < 0 ? line : line.substring(0, colon);
        String value = colon < 0 ? "" : line.substring(colon + 1);
        if (value.startsWith(" ")) {
            value = value.substring(1);
        }
        switch (field) {
            case "id" -> id = value.contains("\0") ? id : value;
            case "event" -> name = value;
            case "data" -> data.add(value);
            default -> {
                // "retry" and unknown fields: nothing for a command line client to do
            }
        }
        return null;
    }
}
