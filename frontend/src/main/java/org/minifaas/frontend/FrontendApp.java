package org.minifaas.frontend;

import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.config.SizeUnit;
import io.javalin.config.RoutesConfig;
import io.javalin.http.HttpResponseException;
import io.javalin.http.UnsupportedMediaTypeResponse;
import io.javalin.http.UploadedFile;
import java.io.IOException;
import java.io.InputStream;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.minifaas.common.nats.QuotaExceededException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The frontend's route tree, identity filter and error mapping; returns an unstarted server. */
public final class FrontendApp {
    private static final Logger log = LoggerFactory.getLogger(FrontendApp.class);
    private static final String IDENTITY = "identity";
    static final String NOT_FINISHED = "Given task has not finished yet.";
    static final String UNAVAILABLE = "The service is temporarily unavailable; try again.";

    private FrontendApp() {
    }

    /** Room for the multipart envelope around an injected file. */
    static final int MULTIPART_OVERHEAD = 64 * 1024;

    public static Javalin create(FrontendConfig config, TaskService tasks, SystemService system) {
        return Javalin.create(app -> {
            app.startup.showJavalinBanner = false;
            app.http.prefer405over404 = true;
            // what Jetty refuses before any route (431, 414, bad Content-Length...) is JSON too
            app.jetty.modifyServer(server -> server.setErrorHandler(new JsonErrorHandler()));
            app.http.maxRequestSize = Math.max(config.maxBodyBytes(), config.maxInjectBytes() + MULTIPART_OVERHEAD);
            app.jetty.multipartConfig.maxFileSize(config.maxInjectBytes() + MULTIPART_OVERHEAD, SizeUnit.BYTES);
            app.jetty.multipartConfig.maxTotalRequestSize(config.maxInjectBytes() + MULTIPART_OVERHEAD,
                    SizeUnit.BYTES);
            app.jetty.multipartConfig.maxInMemoryFileSize(config.maxInjectBytes() + MULTIPART_OVERHEAD,
                    SizeUnit.BYTES);

            app.routes.before(ctx -> {
                if (!ctx.path().equals("/healthz")) {
                    ctx.attribute(IDENTITY, Identity.fromHeaders(
                            ctx.header(Identity.USER_HEADER), ctx.header(Identity.EMAIL_HEADER)));
                }
            });

            // Checked before every endpoint: while NATS is down, any call would fail or wait for a timeout.
            app.routes.beforeMatched(ctx -> {
                if (!ctx.path().equals("/healthz") && !system.natsAvailable()) {
                    throw new ApiException.Unavailable(UNAVAILABLE);
                }
            });

            app.routes.get("/healthz", ctx -> {
                if (system.natsAvailable()) {
                    ctx.json(Map.of("status", "ok"));
                } else {
                    ctx.status(503).json(Map.of("status", "nats unavailable"));
                }
            });

            app.routes.post("/createTask", ctx -> {
                requireJson(ctx);
                CreateTaskRequest request = CreateTaskRequest.parse(
                        readBody(ctx, config.maxBodyBytes()), config.allowedSchemes(), config.addressPolicy());
                UUID taskId = tasks.create(identity(ctx).userId(), request);
                ctx.status(201).json(Map.of("data", taskId.toString()));
            });

            app.routes.get("/getTaskStatus", ctx -> {
                var status = tasks.status(identity(ctx).userId(), taskId(ctx));
                Map<String, Object> body = new LinkedHashMap<>();
                body.put("data", status.name());
                body.put("code", status.code());
                ctx.json(body);
            });

            app.routes.get("/getAllTasks", ctx -> ctx.json(Map.of("data", tasks.list(identity(ctx).userId()))));

            app.routes.get("/getTaskResult", ctx -> {
                UUID taskId = taskId(ctx);
                Optional<byte[]> zip = tasks.resultZip(identity(ctx).userId(), taskId);
                if (zip.isEmpty()) {
                    ctx.json(Map.of("data", NOT_FINISHED));
                    return;
                }
                ctx.contentType("application/zip")
                        .header("Content-Disposition", "attachment; filename=\"" + taskId + "_results.zip\"")
                        .result(zip.get());
            });

            app.routes.get("/getSystemStatus", ctx -> {
                requireAdmin(ctx, config);
                SystemService.SystemStatus status = system.status();
                Map<String, Object> body = new LinkedHashMap<>();
                body.put("status", status.status());
                body.put("number_of_workers", status.numberOfWorkers());
                body.put("live_workers", status.liveWorkers());
                body.put("backlog", status.backlog());
                body.put("running", status.running());
                body.put("data", status.logs());
                body.put("warnings", status.warnings());
                ctx.json(body);
            });

            app.routes.post("/injectFile", ctx -> {
                requireAdmin(ctx, config);
                if (ctx.req().getContentLengthLong() > config.maxInjectBytes() + MULTIPART_OVERHEAD) {
                    drain(ctx);
                    throw new ApiException.PayloadTooLarge("File", config.maxInjectBytes());
                }
                UploadedFile file = uploadedFile(ctx, config.maxInjectBytes());
                if (file == null) {
                    throw new ApiException.InvalidRequest("Send the file as multipart/form-data field 'file'.");
                }
                if (file.size() > config.maxInjectBytes()) {
                    throw new ApiException.PayloadTooLarge("File", config.maxInjectBytes());
                }
                byte[] content;
                try (InputStream in = file.content()) {
                    content = in.readAllBytes();
                }
                ctx.json(Map.of("data", system.inject(file.filename(), content)));
            });

            mapErrors(app.routes, system);
        });
    }

    /** Every error a route can end in, to its status and a JSON {"error": ...} body. */
    private static void mapErrors(RoutesConfig routes, SystemService system) {
        routes.exception(ApiException.class, (e, ctx) -> {
            if (e.status() == 413) {
                ctx.header("Connection", "close"); // the rest of the refused body may be left unread: no reuse
            }
            error(ctx, e.status(), e.getMessage());
        });
        routes.exception(QuotaExceededException.class, (e, ctx) -> error(ctx, 429, e.getMessage()));
        routes.exception(IOException.class, (e, ctx) -> {
            log.warn("{} {}: NATS unavailable: {}", ctx.method(), ctx.path(), e.toString());
            error(ctx, 503, UNAVAILABLE);
        });
        routes.exception(HttpResponseException.class, (e, ctx) -> error(ctx, e.getStatus(), e.getMessage()));
        routes.exception(Exception.class, (e, ctx) -> {
            if (!system.natsAvailable()) {
                // NATS went away during the call (jnats refuses writes while disconnected)
                log.warn("{} {}: NATS unavailable: {}", ctx.method(), ctx.path(), e.toString());
                error(ctx, 503, UNAVAILABLE);
                return;
            }
            log.error("{} {} failed", ctx.method(), ctx.path(), e);
            error(ctx, 500, "Internal error; the request may be retried.");
        });
    }

    private static void error(Context ctx, int status, String message) {
        ctx.status(status).json(Map.of("error", message));
    }

    /** A task is sent as JSON (charset parameters allowed); a browser form cannot, without CORS, send that type. */
    private static void requireJson(Context ctx) {
        String type = ctx.contentType() == null ? "" : ctx.contentType();
        if (!type.split(";", 2)[0].trim().toLowerCase(Locale.ROOT).equals("application/json")) {
            drain(ctx);
            throw new UnsupportedMediaTypeResponse("Send the task as JSON, with the header Content-Type: application/json.");
        }
    }

    private static void requireAdmin(Context ctx, FrontendConfig config) {
        if (!identity(ctx).isAdmin(config.adminEmails())) {
            throw new ApiException.Forbidden();
        }
    }

    /** The multipart field 'file'; a body that is not multipart, or is cut short, is a bad request. */
    private static UploadedFile uploadedFile(Context ctx, long limit) {
        String type = ctx.contentType();
        if (type == null || !type.toLowerCase(Locale.ROOT).startsWith("multipart/form-data")) {
            return null;
        }
        try {
            return ctx.uploadedFile("file");
        } catch (Exception e) {
            // Jetty reports a bad or oversized multipart body as a (wrapped) BadMessageException with a status
            for (Throwable t = e; t != null; t = t.getCause()) {
                String message = String.valueOf(t.getMessage()).toLowerCase(Locale.ROOT);
                if (message.contains("413") || message.contains("exceed") || message.contains("too large")) {
                    throw new ApiException.PayloadTooLarge("File", limit);
                }
            }
            throw new ApiException.InvalidRequest("Malformed multipart body.");
        }
    }

    private static Identity identity(Context ctx) {
        return ctx.attribute(IDENTITY);
    }

    private static UUID taskId(Context ctx) {
        String raw = ctx.queryParam("taskId");
        if (raw == null || raw.isBlank()) {
            throw new ApiException.InvalidRequest("Query parameter 'taskId' is required.");
        }
        try {
            return UUID.fromString(raw.trim());
        } catch (IllegalArgumentException e) {
            throw new ApiException.InvalidRequest("Query parameter 'taskId' must be a task id (UUID).");
        }
    }

    /** Beyond this a refused body is not read: the connection is closed instead. */
    static final long DRAIN_LIMIT = 16L * 1024 * 1024;

    /**
     * Reads and discards a refused body (up to {@link #DRAIN_LIMIT}), so that the client, still sending it,
     * receives the error instead of a reset connection.
     */
    private static void drain(Context ctx) {
        // the server may close this connection once the refusal is sent (a body it did not read): say so, so that a
        // client does not send its next request on it
        ctx.header("Connection", "close");
        try (InputStream in = ctx.req().getInputStream()) {
            byte[] buf = new byte[8192];
            long read = 0;
            int n;
            while (read < DRAIN_LIMIT && (n = in.read(buf)) >= 0) {
                read += n;
            }
        } catch (IOException e) {
            // the client went away: nothing to answer
        }
    }

    /**
     * Reads at most {@code limit} bytes; a longer body (declared or chunked) is refused with 413, one that cannot
     * be read (bad chunking, cut short) with 400.
     */
    private static byte[] readBody(Context ctx, int limit) {
        long declared = ctx.req().getContentLengthLong();
        if (declared > limit) {
            drain(ctx);
            throw new ApiException.PayloadTooLarge(limit);
        }
        try (InputStream in = ctx.req().getInputStream()) {
            byte[] body = in.readNBytes(limit + 1);
            if (body.length > limit) {
                drain(ctx);
                throw new ApiException.PayloadTooLarge(limit);
            }
            return body;
        } catch (IOException e) {
            // the client's fault, not NATS's: without this, the IOException mapping would answer 503
            throw new ApiException.InvalidRequest("The request body could not be read.");
        }
    }
}
