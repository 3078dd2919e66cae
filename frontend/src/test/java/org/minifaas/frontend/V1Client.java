package org.minifaas.frontend;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.minifaas.common.Json;

/**
 * The frontend's HTTP API as the tests call it (v1 and the original endpoints): plain java.net.http, the requests
 * the tests repeat, and a small Server-Sent Events reader.
 */
final class V1Client {
    final String base;

    V1Client(String base) {
        this.base = base;
    }

    HttpRequest.Builder request(String user, String path) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(90));
        if (user != null) {
            b.header("X-Forwarded-User", user);
        }
        return b;
    }

    HttpResponse<byte[]> send(HttpRequest.Builder request) throws Exception {
        return RunningFrontend.HTTP.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    HttpResponse<byte[]> get(String user, String path) throws Exception {
        return send(request(user, path).GET());
    }

    /** A GET sent as raw bytes (java.net.http refuses a malformed URL): the whole answer, headers and body. */
    String rawGet(String user, String target) throws Exception {
        URI uri = URI.create(base);
        try (java.net.Socket socket = new java.net.Socket(uri.getHost(), uri.getPort())) {
            socket.setSoTimeout(30_000);
            socket.getOutputStream()
                    .write(("GET " + target + " HTTP/1.1\r\nHost: a\r\nX-Forwarded-User: " + user
                                    + "\r\nConnection: close\r\n\r\n")
                            .getBytes(StandardCharsets.ISO_8859_1));
            return new String(socket.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }

    HttpResponse<byte[]> delete(String user, String path) throws Exception {
        return send(request(user, path).DELETE());
    }

    /** A POST of {@code body} with {@code contentType} (none when null). */
    HttpResponse<byte[]> post(String user, String path, String contentType, String body) throws Exception {
        HttpRequest.Builder b = request(user, path).POST(HttpRequest.BodyPublishers.ofString(body));
        if (contentType != null) {
            b.header("Content-Type", contentType);
        }
        return send(b);
    }

    /** The original API's {@code POST /createTask} of a JSON body. */
    HttpRequest.Builder legacyCreateRequest(String user, String body) {
        return request(user, "/createTask")
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
    }

    /**
     * {@code POST /injectFile}, as {@code email} when not null: a multipart body with one part {@code file} named
     * {@code fileName}, or, when {@code fileName} is null, a part of another name and no file.
     */
    HttpRequest.Builder injectRequest(String user, String email, String fileName, byte[] content) {
        String boundary = "----minifaas" + System.nanoTime();
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        if (fileName != null) {
            body.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\""
                            + fileName + "\"\r\nContent-Type: application/octet-stream\r\n\r\n")
                    .getBytes(StandardCharsets.UTF_8));
            body.writeBytes(content);
            body.writeBytes("\r\n".getBytes(StandardCharsets.UTF_8));
        } else {
            body.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nx\r\n")
                    .getBytes(StandardCharsets.UTF_8));
        }
        body.writeBytes(("--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        HttpRequest.Builder b = request(user, "/injectFile")
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray()));
        if (email != null) {
            b.header("X-Forwarded-Email", email);
        }
        return b;
    }

    HttpRequest.Builder createRequest(String user, String body, String idempotencyKey) {
        HttpRequest.Builder b = request(user, "/v1/tasks")
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (idempotencyKey != null) {
            b.header("Idempotency-Key", idempotencyKey);
        }
        return b;
    }

    HttpResponse<byte[]> create(String user, String body) throws Exception {
        return send(createRequest(user, body, null));
    }

    /** A created task's id (202 expected). */
    UUID createTask(String user) throws Exception {
        HttpResponse<byte[]> r = create(user, "{\"url\":\"https://example.com/fn.git\",\"parameters\":[\"a\"]}");
        assertEquals(202, r.statusCode(), new String(r.body(), StandardCharsets.UTF_8));
        return UUID.fromString(json(r).get("id").asText());
    }

    static JsonNode json(HttpResponse<byte[]> r) throws Exception {
        return Json.MAPPER.readTree(r.body());
    }

    static String text(HttpResponse<byte[]> r) {
        return new String(r.body(), StandardCharsets.UTF_8);
    }

    /** One Server-Sent Event as received, with when it was complete (System.nanoTime). */
    record Event(String id, String kind, String data, long receivedNanos) {}

    /** An open event stream: events arrive in {@link #events}; {@link #closed} completes when the server ends it. */
    static final class Stream implements AutoCloseable {
        final HttpResponse<InputStream> response;
        final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
        final List<String> comments = new ArrayList<>();
        final CompletableFuture<Void> closed = new CompletableFuture<>();
        private final Thread reader;

        Stream(HttpResponse<InputStream> response) {
            this.response = response;
            this.reader = new Thread(this::read, "sse-reader");
            reader.setDaemon(true);
            reader.start();
        }

        private void read() {
            try (BufferedReader in =
                    new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
                String id = null;
                String kind = null;
                List<String> data = new ArrayList<>();
                String line;
                while ((line = in.readLine()) != null) {
                    if (line.isEmpty()) {
                        if (kind != null || !data.isEmpty()) {
                            events.add(new Event(
                                    id, kind == null ? "message" : kind, String.join("\n", data), System.nanoTime()));
                        }
                        id = null;
                        kind = null;
                        data = new ArrayList<>();
                    } else if (line.startsWith(":")) {
                        synchronized (comments) {
                            comments.add(line);
                        }
                    } else if (line.startsWith("id: ")) {
                        id = line.substring(4);
                    } else if (line.startsWith("event: ")) {
                        kind = line.substring(7);
                    } else if (line.startsWith("data: ")) {
                        data.add(line.substring(6));
                    } else if (line.equals("data:")) {
                        data.add("");
                    }
                }
                closed.complete(null);
            } catch (Exception e) {
                closed.completeExceptionally(e);
            }
        }

        /** The next event, failing after {@code timeout}. */
        Event next(Duration timeout) throws InterruptedException {
            Event e = events.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (e == null) {
                throw new AssertionError("no event within " + timeout);
            }
            return e;
        }

        /** Every event until the server closes the stream. */
        List<Event> rest(Duration timeout) throws Exception {
            closed.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            List<Event> out = new ArrayList<>();
            events.drainTo(out);
            return out;
        }

        @Override
        public void close() throws Exception {
            response.body().close();
            reader.interrupt();
        }
    }

    /** Opens {@code /v1/tasks/{id}/logs} (the answer's headers have arrived when this returns). */
    Stream logs(String user, UUID taskId, String lastEventId) throws Exception {
        HttpRequest.Builder b = request(user, "/v1/tasks/" + taskId + "/logs")
                .header("Accept", "text/event-stream")
                .header("Accept-Encoding", "gzip");
        if (lastEventId != null) {
            b.header("Last-Event-ID", lastEventId);
        }
        HttpResponse<InputStream> r = RunningFrontend.HTTP.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
        return new Stream(r);
    }
}
