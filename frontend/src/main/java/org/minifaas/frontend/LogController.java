package org.minifaas.frontend;

import io.javalin.http.BadRequestResponse;
import io.javalin.http.Context;
import io.nats.client.JetStreamApiException;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /v1/tasks/{id}/logs}: a task's live log as Server-Sent Events, written by hand on Jetty's own output
 * stream (not Javalin's, which may compress and buffer) with a flush after every event, so each one reaches the
 * client as soon as the worker publishes it.
 */
final class LogController {
    private static final Logger log = LoggerFactory.getLogger(LogController.class);
    static final String LAST_EVENT_ID = "Last-Event-ID";
    private static final Pattern LINE_BREAK = Pattern.compile("\r\n|\r|\n");
    private static final Pattern DECIMAL = Pattern.compile("[0-9]{1,19}");

    private final LogService logs;

    LogController(LogService logs) {
        this.logs = logs;
    }

    void stream(Context ctx) throws Exception {
        UUID id = Requests.taskIdPath(ctx);
        Long after = lastEventId(ctx);
        // an unknown task or a full house is still a JSON error: nothing has been sent yet
        try (LogService.Follow follow = logs.open(Requests.userId(ctx), id, after)) {
            HttpServletResponse res = ctx.res();
            res.setStatus(200);
            res.setContentType("text/event-stream");
            res.setCharacterEncoding("UTF-8");
            res.setHeader("Cache-Control", "no-cache");
            res.setHeader("X-Accel-Buffering", "no"); // nginx-style proxies: do not buffer
            ServletOutputStream out = res.getOutputStream();
            out.flush(); // the headers now: the client knows the stream is open
            try {
                follow.run(new EventWriter(out));
            } catch (IOException | JetStreamApiException | RuntimeException e) {
                // the response is under way, no error can be answered: the client left, or NATS did
                log.info("log stream of task {} ended early: {}", id, e.toString());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt(); // the server is stopping
            }
        }
    }

    /**
     * The id of the last event the client received, when it reconnects: a decimal integer from 0 to
     * {@code Long.MAX_VALUE - 1} (the stream resumes after it, at id + 1); anything else is 400.
     */
    static Long lastEventId(Context ctx) {
        return parseLastEventId(ctx.header(LAST_EVENT_ID));
    }

    static Long parseLastEventId(String raw) {
        if (raw == null || raw.isBlank()) {
            return null;
        }
        String value = raw.trim();
        // ASCII digits only (Long.parseLong would take a sign and other scripts' digits), at most 19 of them
        if (DECIMAL.matcher(value).matches()) {
            try {
                long id = Long.parseLong(value);
                if (id < Long.MAX_VALUE) {
                    return id;
                }
            } catch (NumberFormatException e) {
                // beyond a long: answered below
            }
        }
        throw new BadRequestResponse("Header '" + LAST_EVENT_ID + "' must be the id of an event of this stream "
                + "(a whole number from 0 to " + (Long.MAX_VALUE - 1) + ").");
    }

    /** SSE framing: {@code id:}, {@code event:}, one {@code data:} line per line of text, a blank line. */
    static final class EventWriter implements LogService.Sink {
        private final ServletOutputStream out;

        EventWriter(ServletOutputStream out) {
            this.out = out;
        }

        @Override
        public void event(Long sequence, String kind, String data) throws IOException {
            out.write(format(sequence, kind, data).getBytes(StandardCharsets.UTF_8));
            out.flush();
        }

        @Override
        public void keepalive() throws IOException {
            out.write(": keepalive\n\n".getBytes(StandardCharsets.UTF_8));
            out.flush();
        }

        static String format(Long sequence, String kind, String data) {
            StringBuilder b = new StringBuilder();
            if (sequence != null) {
                b.append("id: ").append(sequence).append('\n');
            }
            b.append("event: ").append(kind).append('\n');
            for (String line : LINE_BREAK.split(data, -1)) {
                b.append("data: ").append(line).append('\n');
            }
            return b.append('\n').toString();
        }
    }
}
