package org.minifaas.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A stream that drops before its end: the client reconnects after the last event and loses nothing. */
class LogFollowerTest {
    static final String ID = "3f0c3b0e-3a55-4c1c-9d8e-2f4a1f1c5b7a";
    HttpServer server;
    final List<Map<String, String>> logRequests = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/v1/tasks/" + ID + "/logs", this::logs);
        server.createContext(
                "/v1/tasks/" + ID,
                ex -> send(
                        ex,
                        200,
                        "{\"id\":\"" + ID + "\",\"status\":\"FINISHED_WITH_ERRORS\",\"code\":400,\"exitCode\":9,"
                                + "\"error\":\"exit code 9\"}"));
        server.createContext("/v1/tasks/unknown", ex -> send(ex, 404, "{\"error\":\"Task not found\"}"));
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private void logs(HttpExchange ex) throws IOException {
        String last = ex.getRequestHeaders().getFirst("Last-Event-ID");
        logRequests.add(Map.of(
                "Last-Event-ID",
                String.valueOf(last),
                "Cookie",
                String.valueOf(ex.getRequestHeaders().getFirst("Cookie")),
                "X-Forwarded-User",
                String.valueOf(ex.getRequestHeaders().getFirst("X-Forwarded-User"))));
        String body = last == null
                ? "event: status\ndata: {\"status\":\"EXECUTING\",\"code\":200,\"phase\":\"running\"}\n\n"
                        + "id: 1\nevent: stdout\ndata: a\n\n: keepalive\n\nid: 2\nevent: stdout\ndata: b\n\n"
                : "event: status\ndata: {\"status\":\"EXECUTING\",\"code\":200,\"phase\":\"running\"}\n\n"
                        + "id: 3\nevent: stderr\ndata: oops\n\nid: 4\nevent: stdout\ndata: c\n\n"
                        + "id: 5\nevent: end\ndata: {\"status\":\"FINISHED_WITH_ERRORS\",\"code\":400}\n\n";
        ex.getResponseHeaders().set("Content-Type", "text/event-stream");
        ex.sendResponseHeaders(200, 0);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(body.getBytes(StandardCharsets.UTF_8));
        } // the first connection ends here, without its `end`: a drop
    }

    private static void send(HttpExchange ex, int status, String json) throws IOException {
        byte[] b = json.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(status, b.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(b);
        }
    }

    String base() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    @Test
    void aDroppedStreamIsResumedAfterTheLastEventAndTheExitCodeIsTheFunctions() {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.commandLine(
                        Map.of("MINIFAAS_URL", base(), "MINIFAAS_COOKIE", "s3cret"),
                        new PrintWriter(out),
                        new PrintWriter(err),
                        false)
                .execute("logs", "-f", ID, "--user", "alice");
        assertEquals(9, code, err.toString());
        assertEquals("a\nb\nc\n", out.toString());
        assertEquals(
                "[minifaas] running\noops\n[minifaas] FINISHED_WITH_ERRORS, exit code 9: exit code 9\n",
                err.toString());
        assertEquals(2, logRequests.size());
        assertEquals("null", logRequests.get(0).get("Last-Event-ID"));
        assertEquals("2", logRequests.get(1).get("Last-Event-ID"));
        assertEquals("_oauth2_proxy=s3cret", logRequests.get(1).get("Cookie"));
        assertEquals("alice", logRequests.get(1).get("X-Forwarded-User"));
    }

    @Test
    void theServersErrorIsOneLineAndExitFive() {
        StringWriter err = new StringWriter();
        int code = Main.commandLine(
                        Map.of("MINIFAAS_URL", base()),
                        new PrintWriter(new StringWriter()),
                        new PrintWriter(err),
                        false)
                .execute("status", "unknown");
        assertEquals(5, code);
        assertEquals("minifaas: Task not found (HTTP 404)\n", err.toString());
        assertTrue(err.toString().lines().count() == 1);
    }
}
