package org.minifaas.frontend;

import io.javalin.http.BadRequestResponse;
import io.javalin.http.Context;
import io.javalin.http.UploadedFile;
import java.io.InputStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The administrators' endpoints; the route tree gives them {@link Role#ADMIN}, checked before they run. */
final class AdminController {
    /** Room for the multipart envelope around an injected file. */
    static final int MULTIPART_OVERHEAD = 64 * 1024;

    private final FrontendConfig config;
    private final SystemService system;
    private final SystemHistory history;

    AdminController(FrontendConfig config, SystemService system, SystemHistory history) {
        this.config = config;
        this.system = system;
        this.history = history;
    }

    /** {@code GET /getSystemStatus}. */
    void systemStatus(Context ctx) throws Exception {
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
    }

    /** {@code GET /v1/system/history}: the last hour's samples, oldest first (empty after a restart). */
    void history(Context ctx) {
        List<Map<String, Object>> body = history.lastWindow().stream()
                .map(s -> {
                    Map<String, Object> sample = new LinkedHashMap<>();
                    sample.put("at", s.at().toString());
                    sample.put("backlog", s.backlog());
                    sample.put("running", s.running());
                    sample.put("live_workers", s.liveWorkers());
                    sample.put("number_of_workers", s.numberOfWorkers());
                    return sample;
                })
                .toList();
        ctx.json(body);
    }

    /** {@code POST /injectFile}: multipart field 'file', at most MAX_INJECT_BYTES. */
    void injectFile(Context ctx) throws Exception {
        if (ctx.req().getContentLengthLong() > config.maxInjectBytes() + MULTIPART_OVERHEAD) {
            Requests.drain(ctx);
            throw Requests.tooLarge("File", config.maxInjectBytes());
        }
        UploadedFile file = Requests.uploadedFile(ctx, config.maxInjectBytes());
        if (file == null) {
            throw new BadRequestResponse("Send the file as multipart/form-data field 'file'.");
        }
        if (file.size() > config.maxInjectBytes()) {
            throw Requests.tooLarge("File", config.maxInjectBytes());
        }
        byte[] content;
        try (InputStream in = file.content()) {
            content = in.readAllBytes();
        }
        ctx.json(Map.of("data", system.inject(file.filename(), content)));
    }
}
