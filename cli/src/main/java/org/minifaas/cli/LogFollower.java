package org.minifaas.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Reads a task's log stream until its {@code end} event. When the connection drops first, it reconnects with
 * {@code Last-Event-ID} so that no event is lost or repeated; a connection silent for longer than three keep-alives
 * counts as dropped.
 */
final class LogFollower {
    /** The server sends a comment after 15 s of silence. */
    static final Duration SILENT_CONNECTION = Duration.ofSeconds(45);
    /** Consecutive failed connections before giving up. */
    static final int MAX_RETRIES = 10;

    private static final String EOF = new String("<eof>");

    private final Api api;
    private final String id;
    private final Duration retryDelay;
    private String lastEventId;

    LogFollower(Api api, String id, Duration retryDelay) {
        this.api = api;
        this.id = id;
        this.retryDelay = retryDelay;
    }

    /**
     * Passes every event but the last to {@code events}, and returns the {@code end} event; or null when
     * {@code idleStop} is not null and no event came for that long (the log so far has been replayed).
     */
    SseParser.Event follow(Consumer<SseParser.Event> events, Duration idleStop) throws InterruptedException {
        int failures = 0;
        while (true) {
            InputStream in;
            try {
                in = api.logs(id, lastEventId);
            } catch (ApiException e) {
                int s = e.httpStatus();
                boolean transientRefusal = s == 0 || s == 429 || s == 502 || s == 503 || s == 504;
                if (!transientRefusal || ++failures > MAX_RETRIES) {
                    throw e;
                }
                Thread.sleep(retryDelay.toMillis());
                continue;
            }
            BlockingQueue<String> lines = new LinkedBlockingQueue<>();
            Thread reader = new Thread(() -> read(in, lines), "minifaas-sse-" + id);
            reader.setDaemon(true);
            reader.start();
            SseParser parser = new SseParser();
            try {
                while (true) {
                    Duration wait = idleStop != null ? idleStop : SILENT_CONNECTION;
                    String line = lines.poll(wait.toMillis(), TimeUnit.MILLISECONDS);
                    if (line == null && idleStop != null) {
                        return null;
                    }
                    if (line == null || line == EOF) {
                        break; // dropped or silent: reconnect after the last event seen
                    }
                    SseParser.Event e = parser.accept(line);
                    if (e == null) {
                        continue;
                    }
                    if (e.id() != null) {
                        lastEventId = e.id();
                        failures = 0; // progress: a stored event, not just the status every connection starts with
                    }
                    if (e.name().equals("end")) {
                        return e;
                    }
                    events.accept(e);
                }
            } finally {
                closeQuietly(in);
            }
            if (++failures > MAX_RETRIES) {
                throw new ApiException("the log stream of " + id + " keeps dropping; follow it again with: "
                        + "minifaas logs -f " + id);
            }
            Thread.sleep(retryDelay.toMillis());
        }
    }

    String lastEventId() {
        return lastEventId;
    }

    private static void read(InputStream in, BlockingQueue<String> lines) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                lines.add(line);
            }
        } catch (IOException | RuntimeException e) {
            // dropped, or closed by follow(): the consumer reconnects or has finished
        } finally {
            lines.add(EOF);
        }
    }

    private static void closeQuietly(InputStream in) {
        try {
            in.close();
        } catch (IOException e) {
            // already gone
        }
    }
}
