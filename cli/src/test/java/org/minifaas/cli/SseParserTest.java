package org.minifaas.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SseParserTest {
    static List<SseParser.Event> parse(String stream) {
        SseParser p = new SseParser();
        List<SseParser.Event> out = new ArrayList<>();
        for (String line : stream.split("\n", -1)) {
            SseParser.Event e = p.accept(line);
            if (e != null) {
                out.add(e);
            }
        }
        return out;
    }

    @Test
    void eventsWithIdsNamesAndMultiLineData() {
        List<SseParser.Event> events = parse("""
                event: status
                data: {"status":"PENDING","code":100}

                : keepalive

                id: 118
                event: stdout
                data: hello
                data:  indented
                data:

                id: 121
                event: end
                data: {"status":"FINISHED","code":300}

                """);
        assertEquals(
                List.of(
                        new SseParser.Event(null, "status", "{\"status\":\"PENDING\",\"code\":100}"),
                        new SseParser.Event("118", "stdout", "hello\n indented\n"),
                        new SseParser.Event("121", "end", "{\"status\":\"FINISHED\",\"code\":300}")),
                events);
    }

    @Test
    void commentsAndBlankLinesAloneAreNoEventsAndDefaultsApply() {
        SseParser p = new SseParser();
        assertNull(p.accept(": keepalive"));
        assertNull(p.accept(""));
        assertNull(p.accept("retry: 1000"));
        assertNull(p.accept("data:x"));
        assertEquals(new SseParser.Event(null, "message", "x"), p.accept(""));
    }

    @Test
    void anEventWithoutIdDoesNotInheritThePreviousOne() {
        List<SseParser.Event> events = parse("id: 5\nevent: stdout\ndata: a\n\nevent: status\ndata: {}\n\n");
        assertEquals("5", events.get(0).id());
        assertNull(events.get(1).id());
    }
}
