package org.minifaas.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;

/** API v1 over java.net.http: one method per call, every refusal an {@link ApiException} with the server's words. */
final class Api {
    static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10))
            .build();
    /** Longer than the longest waiting read the server allows (60 s). */
    private static final Duration CALL_TIMEOUT = Duration.ofSeconds(75);

    /** A call's answer: its HTTP status and JSON body. */
    record Answer(int status, JsonNode body) {}

    private final String base;
    private final List<String> headers;

    /** @param headers name, value, name, value... sent with every request (identity, cookie) */
    Api(String base, List<String> headers) {
        this.base = base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
        this.headers = headers;
    }

    String base() {
        return base;
    }

    static String segment(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    JsonNode create(String url, List<String> parameters, String ref, Integer timeoutSeconds, String runtime) {
        ObjectNode body = JSON.createObjectNode();
        body.put("url", url);
        body.putArray("parameters")
                .addAll(parameters.stream().map(JSON.getNodeFactory()::textNode).toList());
        if (ref != null) {
            body.put("ref", ref);
        }
        if (timeoutSeconds != null) {
            body.put("timeoutSeconds", timeoutSeconds);
        }
        if (runtime != null) {
            body.put("runtime", runtime);
        }
        return json(request("/v1/tasks")
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(body.toString())))
                .body();
    }

    JsonNode task(String id, Integer waitSeconds) {
        String q = waitSeconds == null ? "" : "?waitSeconds=" + waitSeconds;
        return json(request("/v1/tasks/" + segment(id) + q).GET()).body();
    }

    JsonNode page(String status, int limit, String cursor) {
        StringBuilder q = new StringBuilder("/v1/tasks?limit=").append(limit);
        if (status != null) {
            q.append("&status=").append(segment(status));
        }
        if (cursor != null) {
            q.append("&cursor=").append(segment(cursor));
        }
        return json(request(q.toString()).GET()).body();
    }

    /** 200: it will never run; 202: its worker is stopping it. */
    Answer cancel(String id) {
        return json(request("/v1/tasks/" + segment(id)).DELETE());
    }

    byte[] result(String id) {
        HttpResponse<byte[]> r =
                send(request("/v1/tasks/" + segment(id) + "/result").GET(), HttpResponse.BodyHandlers.ofByteArray());
        if (r.statusCode() != 200) {
            throw refusal(r.statusCode(), new String(r.body(), StandardCharsets.UTF_8));
        }
        return r.body();
    }

    JsonNode systemStatus() {
        return json(request("/getSystemStatus").GET()).body();
    }

    JsonNode inject(Path file) throws IOException {
        String boundary = "minifaas-" + UUID.randomUUID();
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        String name = file.getFileName()
                .toString()
                .replace("\"", "_")
                .replace("\r", "_")
                .replace("\n", "_");
        body.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + name
                        + "\"\r\nContent-Type: application/octet-stream\r\n\r\n")
                .getBytes(StandardCharsets.UTF_8));
        body.writeBytes(Files.readAllBytes(file));
        body.writeBytes(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        return json(request("/injectFile")
                        .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                        .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray())))
                .body();
    }

    /** The log stream, open (2xx), from its start or after {@code lastEventId}. No timeout: it lasts the task. */
    InputStream logs(String id, String lastEventId) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + "/v1/tasks/" + segment(id) + "/logs"))
                .header("Accept", "text/event-stream")
                .GET();
        addHeaders(b);
        if (lastEventId != null) {
            b.header("Last-Event-ID", lastEventId);
        }
        HttpResponse<InputStream> r = send(b, HttpResponse.BodyHandlers.ofInputStream());
        if (r.statusCode() != 200) {
            try (InputStream in = r.body()) {
                throw refusal(r.statusCode(), new String(in.readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                throw refusal(r.statusCode(), "");
            }
        }
        return r.body();
    }

    private HttpRequest.Builder request(String path) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).timeout(CALL_TIMEOUT);
        addHeaders(b);
        return b;
    }

    private URI uri(String path) {
        try {
            return URI.create(base + path);
        } catch (IllegalArgumentException e) {
            throw new ApiException("not a server URL: " + base);
        }
    }

    private void addHeaders(HttpRequest.Builder b) {
        for (int i = 0; i + 1 < headers.size(); i += 2) {
            b.header(headers.get(i), headers.get(i + 1));
        }
    }

    private Answer json(HttpRequest.Builder b) {
        HttpResponse<String> r = send(b, HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() / 100 != 2) {
            throw refusal(r.statusCode(), r.body());
        }
        try {
            return new Answer(r.statusCode(), JSON.readTree(r.body()));
        } catch (IOException e) {
            throw new ApiException("the server's answer is not JSON (HTTP " + r.statusCode() + ")", r.statusCode());
        }
    }

    private <T> HttpResponse<T> send(HttpRequest.Builder b, HttpResponse.BodyHandler<T> handler) {
        HttpRequest request = b.build();
        try {
            return HTTP.send(request, handler);
        } catch (HttpConnectTimeoutException e) {
            throw new ApiException("cannot connect to " + base + " (timed out)");
        } catch (ConnectException e) {
            throw new ApiException("cannot connect to " + base + " (is the server running? --server/MINIFAAS_URL)");
        } catch (HttpTimeoutException e) {
            throw new ApiException("no answer from " + base + " within " + CALL_TIMEOUT.toSeconds() + " s");
        } catch (IOException e) {
            throw new ApiException("request to " + base + " failed (" + describe(e) + ")");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiException("interrupted");
        }
    }

    private static String describe(Exception e) {
        Throwable t = e;
        while (t.getMessage() == null && t.getCause() != null) {
            t = t.getCause();
        }
        return t.getMessage() != null ? t.getMessage() : t.getClass().getSimpleName();
    }

    /** The server's {"error": ...} in one line, with its status; proxies' HTML pages reduced to the status. */
    static ApiException refusal(int status, String body) {
        String message = null;
        try {
            JsonNode error = JSON.readTree(body).get("error");
            message = error != null && error.isTextual() ? error.asText() : null;
        } catch (IOException | RuntimeException e) {
            // not JSON
        }
        if (message == null) {
            message = switch (status) {
                case 401 -> "not logged in: pass --cookie/MINIFAAS_COOKIE (or --user for a local stack)";
                case 403 -> "forbidden";
                case 404 -> "not found";
                default -> "the server answered";
            };
        }
        return new ApiException(message.replaceAll("\\s+", " ").strip() + " (HTTP " + status + ")", status);
    }
}
