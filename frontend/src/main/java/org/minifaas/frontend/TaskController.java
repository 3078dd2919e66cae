package org.minifaas.frontend;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.http.BadRequestResponse;
import io.javalin.http.Context;
import java.time.Duration;
import java.util.Arrays;
import java.util.UUID;
import java.util.stream.Collectors;
import org.minifaas.common.Json;
import org.minifaas.common.model.TaskRecord;
import org.minifaas.common.model.TaskStatus;

/** {@code /v1/tasks}: tasks as execution records, in plain JSON (no {"data": ...} envelope around one record). */
final class TaskController {
    static final String IDEMPOTENCY_HEADER = "Idempotency-Key";
    static final int MAX_IDEMPOTENCY_KEY_LENGTH = 255;
    static final int MAX_WAIT_SECONDS = 60;
    static final int DEFAULT_PAGE_SIZE = 20;
    static final int MAX_PAGE_SIZE = 100;

    private final FrontendConfig config;
    private final TaskService tasks;

    TaskController(FrontendConfig config, TaskService tasks) {
        this.config = config;
        this.tasks = tasks;
    }

    /** {@code POST /v1/tasks}: 202 and the new record, or 200 and the first one for a repeated Idempotency-Key. */
    void create(Context ctx) throws Exception {
        Requests.requireJson(ctx);
        String key = idempotencyKey(ctx);
        CreateTaskRequest request = CreateTaskRequest.parseV1(
                Requests.readBody(ctx, config.maxBodyBytes()),
                config.allowedSchemes(),
                config.addressPolicy(),
                config.maxExecutionSeconds());
        TaskService.Created created = tasks.create(Requests.userId(ctx), request, key);
        ctx.header("Location", self(created.record().id()))
                .status(created.isNew() ? 202 : 200)
                .json(view(created.record()));
    }

    /** {@code GET /v1/tasks/{id}[?waitSeconds=N]}: the record, once final or after N seconds. */
    void get(Context ctx) throws Exception {
        UUID id = Requests.taskIdPath(ctx);
        int wait = Requests.intQuery(ctx, "waitSeconds", 0, 0, MAX_WAIT_SECONDS);
        ctx.json(view(tasks.await(Requests.userId(ctx), id, Duration.ofSeconds(wait))));
    }

    /** {@code GET /v1/tasks?status=&limit=&cursor=}: {"data": [records], "nextCursor": ...}, newest first. */
    void list(Context ctx) throws Exception {
        TaskStatus status = statusQuery(ctx);
        int limit = Requests.intQuery(ctx, "limit", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE);
        String cursor = Requests.query(ctx, "cursor");
        PageCursor after = cursor == null || cursor.isEmpty() ? null : PageCursor.decode(cursor);
        TaskService.Page page = tasks.page(Requests.userId(ctx), status, limit, after);
        ObjectNode body = Json.MAPPER.createObjectNode();
        ArrayNode data = body.putArray("data");
        page.records().forEach(r -> data.add(view(r)));
        body.put("nextCursor", page.nextCursor());
        ctx.json(body);
    }

    /** {@code DELETE /v1/tasks/{id}}: 200 when it was queued (done), 202 when running (its worker is told to stop). */
    void cancel(Context ctx) throws Exception {
        TaskService.Cancelled cancelled = tasks.cancel(Requests.userId(ctx), Requests.taskIdPath(ctx));
        ctx.status(cancelled.wasRunning() ? 202 : 200).json(view(cancelled.record()));
    }

    /** {@code GET /v1/tasks/{id}/result}: the zip of /getTaskResult; 409 while not final. */
    void result(Context ctx) throws Exception {
        UUID id = Requests.taskIdPath(ctx);
        ResultDownload.zip(ctx, id, tasks.finishedResultZip(Requests.userId(ctx), id));
    }

    /** {@code GET /v1/tasks/{id}/files/{name}}: stdout.txt, stderr.txt or error.txt as text. */
    void file(Context ctx) throws Exception {
        UUID id = Requests.taskIdPath(ctx);
        byte[] content = tasks.resultFile(Requests.userId(ctx), id, ctx.pathParam("name"));
        ctx.contentType("text/plain; charset=utf-8").result(content);
    }

    /** A record as the API shows it: its fields plus links to its other resources. */
    static ObjectNode view(TaskRecord record) {
        ObjectNode node = Json.MAPPER.valueToTree(record);
        String self = self(record.id());
        ObjectNode links = node.putObject("links");
        links.put("self", self);
        links.put("logs", self + "/logs");
        links.put("result", self + "/result");
        return node;
    }

    static String self(UUID id) {
        return "/v1/tasks/" + id;
    }

    /** Printable ASCII, 1 to 255 characters (absent: no idempotency). */
    private static String idempotencyKey(Context ctx) {
        String key = ctx.header(IDEMPOTENCY_HEADER);
        if (key == null) {
            return null;
        }
        if (key.isBlank()
                || key.length() > MAX_IDEMPOTENCY_KEY_LENGTH
                || !key.chars().allMatch(c -> c >= 0x20 && c <= 0x7e)) {
            throw new BadRequestResponse("Header '" + IDEMPOTENCY_HEADER + "' must be 1 to "
                    + MAX_IDEMPOTENCY_KEY_LENGTH + " printable ASCII characters.");
        }
        return key;
    }

    private static TaskStatus statusQuery(Context ctx) {
        String raw = Requests.query(ctx, "status");
        if (raw == null || raw.isEmpty()) {
            return null;
        }
        return TaskStatus.parse(raw)
                .orElseThrow(() -> new BadRequestResponse("Query parameter 'status' must be one of "
                        + Arrays.stream(TaskStatus.values()).map(Enum::name).collect(Collectors.joining(", ")) + "."));
    }
}
