package org.minifaas.systemtests;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** A minimal Server-Sent Events client: events as they arrive, each stamped with its arrival time. */
final class Sse implements AutoCloseable {
    record Event(String id, String name, String data, long arrivedNanos) {}

    private static final Event CLOSED = new Event(null, "<closed>", "", 0);
    final int status;
    final String contentType;
    private final LinkedBlockingQueue<Event> events = new LinkedBlockingQueue<>();
    private final Thread reader;
    private final Stream<String> lines;

    private Sse(HttpResponse<Stream<String>> response) {
        this.status = response.statusCode();
        this.contentType = response.headers().firstValue("Content-Type").orElse("");
        this.lines = response.body();
        this.reader = new Thread(this::read, "sse-reader");
        this.reader.setDaemon(true);
        this.reader.start();
    }

    static Sse open(String url, String user, String lastEventId) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url))
                .header("X-Forwarded-User", user)
                .header("Accept", "text/event-stream");
        if (lastEventId != null) {
            b.header("Last-Event-ID", lastEventId);
        }
        return new Sse(Stack.HTTP.send(b.build(), HttpResponse.BodyHandlers.ofLines()));
    }

    private void read() {
        String id = null;
        String name = "message";
        List<String> data = new ArrayList<>();
        try {
            Iterator<String> it = lines.iterator();
            while (it.hasNext()) {
                String line = it.next();
                if (line.isEmpty()) {
                    if (!data.isEmpty()) {
                        events.add(new Event(id, name, String.join("\n", data), System.nanoTime()));
                    }
                    id = null;
                    name = "message";
                    data.clear();
                } else if (line.startsWith(":")) {
                    continue; // a comment (keep-alive)
                } else if (line.startsWith("id:")) {
                    id = line.substring(3).trim();
                } else if (line.startsWith("event:")) {
                    name = line.substring(6).trim();
                } else if (line.startsWith("data:")) {
                    String d = line.substring(5);
                    data.add(d.startsWith(" ") ? d.substring(1) : d);
                }
            }
        } catch (RuntimeException e) {
            // closed under us
        } finally {
            events.add(CLOSED);
        }
    }

    /** The next event, or null when the stream ended; fails after {@code timeout}. */
    Event next(Duration timeout) throws InterruptedException {
        Event e = events.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
        if (e == null) {
            throw new AssertionError("no event within " + timeout);
        }
        return e == CLOSED ? null : e;
    }

    /** Every event until the stream ends. */
    List<Event> rest(Duration timeout) throws InterruptedException {
        List<Event> out = new ArrayList<>();
        Event e;
        while ((e = next(timeout)) != null) {
            out.add(e);
        }
        return out;
    }

    @Override
    public void close() {
        lines.close();
    }
}
