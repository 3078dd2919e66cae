package org.minifaas.frontend;

import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import java.io.IOException;
import java.io.InputStream;
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

    private FrontendApp() {
    }

    public static Javalin create(FrontendConfig config, TaskService tasks) {
        return Javalin.create(app -> {
            app.startup.showJavalinBanner = false;
            app.http.maxRequestSize = config.maxBodyBytes();

            app.routes.before(ctx -> {
                if (!ctx.path().equals("/healthz")) {
                    ctx.attribute(IDENTITY, Identity.fromHeaders(
                            ctx.header(Identity.USER_HEADER), ctx.header(Identity.EMAIL_HEADER)));
                }
            });

            app.routes.get("/healthz", ctx -> ctx.json(Map.of("status", "ok")));

            app.routes.post("/createTask", ctx -> {
                CreateTaskRequest request = CreateTaskRequest.parse(
                        readBody(ctx, config.maxBodyBytes()), config.allowedSchemes());
                UUID taskId = tasks.create(identity(ctx).userId(), request);
                ctx.status(201).json(Map.of("data", taskId.toString()));
            });

            app.routes.get("/getTaskStatus", ctx -> {
                var status = tasks.status(identity(ctx).userId(), taskId(ctx));
                ctx.json(Map.of("data", status.name(), "code", status.code()));
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

            app.routes.exception(ApiException.class, (e, ctx) -> error(ctx, e.status(), e.getMessage()));
            app.routes.exception(QuotaExceededException.class, (e, ctx) -> error(ctx, 429, e.getMessage()));
            app.routes.exception(HttpResponseException.class, (e, ctx) -> error(ctx, e.getStatus(), e.getMessage()));
            app.routes.exception(Exception.class, (e, ctx) -> {
                log.error("{} {} failed", ctx.method(), ctx.path(), e);
                error(ctx, 500, "Internal error; the request may be retried.");
            });
        });
    }

    private static void error(Context ctx, int status, String message) {
        ctx.status(status).json(Map.of("error", message));
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

    /** Reads at most {@code limit} bytes; a longer body (declared or chunked) is refused with 413. */
    private static byte[] readBody(Context ctx, int limit) throws IOException {
        long declared = ctx.req().getContentLengthLong();
        if (declared > limit) {
            throw new ApiException.PayloadTooLarge(limit);
        }
        try (InputStream in = ctx.req().getInputStream()) {
            byte[] body = in.readNBytes(limit + 1);
            if (body.length > limit) {
                throw new ApiException.PayloadTooLarge(limit);
            }
            return body;
        }
    }
}
