package org.minifaas.frontend;

import io.javalin.http.Context;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.minifaas.common.model.TaskStatus;

/** The original API's task endpoints, answering exactly as they always have ({@code {"data": ...}}). */
final class LegacyController {
    static final String NOT_FINISHED = "Given task has not finished yet.";

    private final FrontendConfig config;
    private final TaskService tasks;

    LegacyController(FrontendConfig config, TaskService tasks) {
        this.config = config;
        this.tasks = tasks;
    }

    /** {@code POST /createTask}: 201 {"data": id}. */
    void createTask(Context ctx) throws Exception {
        Requests.requireJson(ctx);
        CreateTaskRequest request = CreateTaskRequest.parse(
                Requests.readBody(ctx, config.maxBodyBytes()), config.allowedSchemes(), config.addressPolicy());
        UUID taskId = tasks.create(Requests.userId(ctx), request);
        ctx.status(201).json(Map.of("data", taskId.toString()));
    }

    /** {@code GET /getTaskStatus?taskId=}: {"data": status, "code": n}. */
    void taskStatus(Context ctx) throws Exception {
        TaskStatus status = tasks.status(Requests.userId(ctx), Requests.taskIdQuery(ctx));
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("data", status.name());
        body.put("code", status.code());
        ctx.json(body);
    }

    /** {@code GET /getAllTasks}: {"data": [ids]}. */
    void allTasks(Context ctx) throws Exception {
        ctx.json(Map.of("data", tasks.list(Requests.userId(ctx))));
    }

    /** {@code GET /getTaskResult?taskId=}: the zip, or 200 {"data": "Given task has not finished yet."}. */
    void taskResult(Context ctx) throws Exception {
        UUID taskId = Requests.taskIdQuery(ctx);
        Optional<byte[]> zip = tasks.resultZip(Requests.userId(ctx), taskId);
        if (zip.isEmpty()) {
            ctx.json(Map.of("data", NOT_FINISHED));
            return;
        }
        ResultDownload.zip(ctx, taskId, zip.get());
    }
}
