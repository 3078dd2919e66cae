package org.minifaas.frontend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.minifaas.frontend.V1Client.json;
import static org.minifaas.frontend.V1Client.text;

import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.minifaas.common.Json;
import org.minifaas.common.model.TaskStatus;
import org.minifaas.common.nats.NatsLayer;

/**
 * GET /v1/openapi.json documents every route the app registers (and nothing else), and real answers of the running
 * frontend validate against the schemas it gives for their path, method, status and media type.
 */
class OpenApiIT {
    static final String ADMIN = "admin@example.com";
    /** Where the schema registry finds the document, so that its "#/components/..." references resolve. */
    static final String DOC_IRI = "https://minifaas.invalid/v1/openapi.json";

    static final Set<String> METHODS = Set.of("get", "post", "put", "patch", "delete", "head", "options");
    static RunningFrontend frontend;
    static NatsLayer nats;
    static V1Client api;
    static JsonNode doc;
    static SchemaRegistry schemas;
    static int validated;

    @BeforeAll
    static void start() throws Exception {
        frontend = RunningFrontend.start(
                s -> s.withMaxActiveTasks(4),
                List.of(ADMIN),
                false,
                c -> RunningFrontend.withWebhookSecret(c, "openapi-secret"));
        nats = frontend.nats;
        api = new V1Client(frontend.base);
        HttpResponse<byte[]> r = api.get(null, "/v1/openapi.json"); // no identity needed
        assertEquals(200, r.statusCode());
        doc = json(r);
        schemas = SchemaRegistry.withDefaultDialect(
                SpecificationVersion.DRAFT_2020_12, builder -> builder.schemas(Map.of(DOC_IRI, text(r))));
    }

    @AfterAll
    static void stop() throws Exception {
        frontend.close();
    }

    @Test
    void theDocumentIsOpenApi31AndNamesEveryRoute() {
        assertEquals("3.1.0", doc.get("openapi").asText());
        Set<String> registered = new TreeSet<>();
        frontend.app.unsafe.internalRouter.allHttpHandlers().stream()
                .filter(h -> h.endpoint.method.isHttpMethod())
                .forEach(h -> registered.add(h.endpoint.method.name().toLowerCase(Locale.ROOT) + " "
                        // a path parameter that may hold slashes (<path>) is {path} in OpenAPI too
                        + h.endpoint.path.replace('<', '{').replace('>', '}')));
        Set<String> documented = new TreeSet<>();
        doc.get("paths")
                .fields()
                .forEachRemaining(path -> path.getValue().fieldNames().forEachRemaining(method -> {
                    if (METHODS.contains(method)) {
                        documented.add(method + " " + path.getKey());
                    }
                }));
        assertTrue(registered.contains("get /v1/tasks/{id}/files/{name}"), registered.toString());
        assertTrue(registered.contains("get /v1/webhook-key"), registered.toString());
        assertEquals(23, registered.size(), registered.toString());
        assertEquals(registered, documented);
        for (String schema : List.of("Task", "TaskPage", "Error", "CreateTaskRequestV1")) {
            assertNotNull(doc.get("components").get("schemas").get(schema), schema);
        }
    }

    /**
     * Checks that {@code path}'s {@code method} documents the answer's status and media type, and that a JSON body
     * validates against the schema given for them.
     */
    static void assertDocumented(String method, String path, HttpResponse<byte[]> r) throws Exception {
        String what = method + " " + path + " " + r.statusCode();
        JsonNode response =
                doc.path("paths").path(path).path(method).path("responses").path(String.valueOf(r.statusCode()));
        assertTrue(response.isObject(), what + " is not documented: " + text(r));
        String type =
                r.headers().firstValue("Content-Type").orElse("").split(";")[0].trim();
        JsonNode content = response.path("content").path(type);
        assertTrue(content.isObject(), what + " does not document " + type);
        if (!type.equals("application/json")) {
            return;
        }
        // every JSON answer's schema is a component: its name says what it is
        JsonNode ref = content.path("schema").path("$ref");
        assertTrue(ref.isTextual(), what + ": the schema is not a $ref to a component");
        Schema validator = schemas.getSchema(SchemaLocation.of(DOC_IRI + ref.asText()));
        List<Error> errors = validator.validate(Json.MAPPER.readTree(r.body()));
        assertTrue(errors.isEmpty(), what + ": " + errors + " in " + text(r));
        validated++;
    }

    static HttpResponse<byte[]> post(String user, String path, String body) throws Exception {
        return api.send(api.request(user, path)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)));
    }

    @Test
    void realAnswersValidateAgainstTheDocumentedSchemas() throws Exception {
        String user = "openapi-" + UUID.randomUUID();
        String task = "{\"url\":\"https://example.com/fn.git\",\"parameters\":[\"a\"],\"ref\":\"main\","
                + "\"timeoutSeconds\":5,\"callbackUrl\":\"https://198.51.100.7/hook\"}";

        assertDocumented("get", "/healthz", api.get(null, "/healthz"));
        assertDocumented("get", "/docs", api.get(null, "/docs"));
        assertDocumented("get", "/v1/openapi.json", api.get(null, "/v1/openapi.json"));

        // the web console: pages, files, and the admin page's errors as HTML for browsers, JSON otherwise
        assertDocumented("get", "/", api.get(null, "/"));
        assertDocumented("get", "/tasks/{id}", api.get(null, "/tasks/" + UUID.randomUUID()));
        assertDocumented("get", "/console/{file}", api.get(null, "/console/console.css"));
        assertDocumented("get", "/console/{file}", api.get(null, "/console/tasks.js"));
        assertDocumented("get", "/console/{file}", api.get(null, "/console/nope.js"));
        assertDocumented("get", "/admin", api.send(api.request("root", "/admin").header("X-Forwarded-Email", ADMIN)));
        assertDocumented("get", "/admin", api.get("root", "/admin"));
        assertDocumented("get", "/admin", api.send(api.request("root", "/admin").header("Accept", "text/html")));
        assertDocumented("get", "/admin", api.send(api.request(null, "/admin").header("Accept", "text/html")));
        assertDocumented("get", "/admin", api.get(null, "/admin"));
        assertDocumented(
                "get",
                "/v1/system/history",
                api.send(api.request("root", "/v1/system/history").header("X-Forwarded-Email", ADMIN)));
        assertDocumented("get", "/v1/system/history", api.get("root", "/v1/system/history"));

        // v1
        HttpResponse<byte[]> created = api.send(api.createRequest(user, task, "key-1"));
        assertDocumented("post", "/v1/tasks", created);
        UUID id = UUID.fromString(json(created).get("id").asText());
        assertDocumented("post", "/v1/tasks", api.send(api.createRequest(user, task, "key-1")));
        assertDocumented("post", "/v1/tasks", api.create(user, "{\"url\":\"ftp://x\"}"));
        assertDocumented("post", "/v1/tasks", api.create(null, task));
        assertDocumented(
                "post",
                "/v1/tasks",
                api.send(api.request(user, "/v1/tasks").POST(HttpRequest.BodyPublishers.ofString(task))));
        assertDocumented(
                "post",
                "/v1/tasks",
                api.create(
                        user,
                        "{\"url\":\"https://example.com/a.git\",\"parameters\":[\"" + "x".repeat(70 * 1024) + "\"]}"));
        assertDocumented("get", "/v1/tasks", api.get(user, "/v1/tasks?limit=1"));
        assertDocumented("get", "/v1/tasks", api.get(user, "/v1/tasks?limit=0"));
        assertDocumented("get", "/v1/tasks/{id}", api.get(user, "/v1/tasks/" + id + "?waitSeconds=0"));
        assertDocumented("get", "/v1/tasks/{id}", api.get(user, "/v1/tasks/" + UUID.randomUUID()));
        assertDocumented("get", "/v1/tasks/{id}", api.get(user, "/v1/tasks/x"));
        assertDocumented("get", "/v1/tasks/{id}/result", api.get(user, "/v1/tasks/" + id + "/result"));
        assertDocumented("get", "/v1/tasks/{id}/files/{name}", api.get(user, "/v1/tasks/" + id + "/files/stdout.txt"));
        assertDocumented("get", "/v1/tasks/{id}/logs", api.get(user, "/v1/tasks/" + UUID.randomUUID() + "/logs"));
        assertDocumented("delete", "/v1/tasks/{id}", api.delete(user, "/v1/tasks/" + id));
        assertDocumented("delete", "/v1/tasks/{id}", api.delete(user, "/v1/tasks/" + id));
        assertDocumented("get", "/v1/tasks/{id}/logs", api.get(user, "/v1/tasks/" + id + "/logs")); // replay + end
        UUID running = api.createTask(user);
        nats.userTasks(user).update(running, r -> r.started("w1", 1));
        assertDocumented("delete", "/v1/tasks/{id}", api.delete(user, "/v1/tasks/" + running));
        UUID done = api.createTask(user);
        nats.results(done).write(Map.of("stdout.txt", "out".getBytes(StandardCharsets.UTF_8)));
        nats.userTasks(user).update(done, r -> r.started("w2", 1));
        nats.userTasks(user).update(done, r -> r.finished(TaskStatus.FINISHED, "c0ffee", 10L, 20L, 30L, 0, true, null));
        assertDocumented("get", "/v1/tasks/{id}", api.get(user, "/v1/tasks/" + done + "?waitSeconds=5"));
        assertDocumented("get", "/v1/tasks/{id}/result", api.get(user, "/v1/tasks/" + done + "/result"));
        assertDocumented(
                "get", "/v1/tasks/{id}/files/{name}", api.get(user, "/v1/tasks/" + done + "/files/stdout.txt"));
        assertDocumented("get", "/v1/tasks/{id}/files/{name}", api.get(user, "/v1/tasks/" + done + "/files/error.txt"));
        assertDocumented("get", "/v1/tasks", api.get(user, "/v1/tasks?status=FINISHED"));
        assertDocumented("get", "/v1/webhook-key", api.get(user, "/v1/webhook-key"));
        assertDocumented("get", "/v1/webhook-key", api.get(null, "/v1/webhook-key"));
        assertDocumented("post", "/v1/tasks", api.create(user, task)); // the 4th task: at the quota of this frontend
        assertDocumented("post", "/v1/tasks", api.create(user, task)); // 429

        // the original API
        String other = "openapi-legacy-" + UUID.randomUUID();
        HttpResponse<byte[]> legacy = post(other, "/createTask", "{\"url\":\"https://example.com/fn.git\"}");
        assertDocumented("post", "/createTask", legacy);
        String legacyId = json(legacy).get("data").asText();
        assertDocumented("post", "/createTask", post(other, "/createTask", "{}"));
        assertDocumented(
                "post",
                "/createTask",
                api.send(api.request(other, "/createTask").POST(HttpRequest.BodyPublishers.ofString("{}"))));
        assertDocumented("get", "/getTaskStatus", api.get(other, "/getTaskStatus?taskId=" + legacyId));
        assertDocumented("get", "/getTaskStatus", api.get(other, "/getTaskStatus?taskId=x"));
        assertDocumented("get", "/getTaskStatus", api.get(other, "/getTaskStatus?taskId=" + UUID.randomUUID()));
        assertDocumented("get", "/getTaskStatus", api.get(null, "/getTaskStatus?taskId=" + legacyId));
        assertDocumented("get", "/getAllTasks", api.get(other, "/getAllTasks"));
        assertDocumented("get", "/getTaskResult", api.get(other, "/getTaskResult?taskId=" + legacyId));
        assertDocumented("get", "/getTaskStatus", api.get(user, "/getTaskStatus?taskId=" + id)); // CANCELLED, 600
        assertDocumented("get", "/getTaskResult", api.get(user, "/getTaskResult?taskId=" + done));
        assertDocumented(
                "get",
                "/getSystemStatus",
                api.send(api.request("root", "/getSystemStatus").header("X-Forwarded-Email", ADMIN)));
        assertDocumented("get", "/getSystemStatus", api.get("root", "/getSystemStatus"));
        assertDocumented("post", "/injectFile", inject(ADMIN));
        assertDocumented("post", "/injectFile", inject("someone@example.com"));
        assertDocumented(
                "post",
                "/injectFile",
                api.send(api.request("root", "/injectFile")
                        .header("X-Forwarded-Email", ADMIN)
                        .POST(HttpRequest.BodyPublishers.ofString("plain"))));
        assertTrue(validated >= 35, "JSON answers validated: " + validated);
    }

    @Test
    void theWebhookKeyOfAServerWithoutWebhooksIsADocumented404() throws Exception {
        try (RunningFrontend plain = RunningFrontend.start(s -> s, List.of())) {
            HttpResponse<byte[]> r = new V1Client(plain.base).get("openapi-nokey", "/v1/webhook-key");
            assertEquals(404, r.statusCode());
            assertDocumented("get", "/v1/webhook-key", r);
        }
    }

    static HttpResponse<byte[]> inject(String email) throws Exception {
        return api.send(api.injectRequest("root", email, "a.txt", "hello".getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void aRecordThatBreaksTheSchemaIsCaught() throws Exception {
        // the validator is not vacuous: a record missing its links or with an unknown status fails
        Schema task = schemas.getSchema(SchemaLocation.of(DOC_IRI + "#/components/schemas/Task"));
        String user = "openapi-neg-" + UUID.randomUUID();
        JsonNode good = json(api.get(user, "/v1/tasks/" + api.createTask(user)));
        assertTrue(task.validate(good).isEmpty());
        var noLinks = good.deepCopy();
        ((com.fasterxml.jackson.databind.node.ObjectNode) noLinks).remove("links");
        assertTrue(!task.validate(noLinks).isEmpty());
        var badStatus = good.deepCopy();
        ((com.fasterxml.jackson.databind.node.ObjectNode) badStatus).put("status", "DONE");
        assertTrue(!task.validate(badStatus).isEmpty());
        var extra = good.deepCopy();
        ((com.fasterxml.jackson.databind.node.ObjectNode) extra).put("surprise", 1);
        assertTrue(!task.validate(extra).isEmpty());
    }

    @Test
    void swaggerUiIsServedFromTheWebjarWithoutIdentity() throws Exception {
        HttpResponse<byte[]> page = api.get(null, "/docs");
        assertEquals(200, page.statusCode());
        assertTrue(page.headers().firstValue("Content-Type").orElse("").startsWith("text/html"));
        String html = text(page);
        assertTrue(html.contains("/v1/openapi.json"), html);
        List<String> assets = new ArrayList<>();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?:src|href)=\"(/webjars/swagger-ui/[^\"]+)\"")
                .matcher(html);
        while (m.find()) {
            assets.add(m.group(1));
        }
        assertEquals(2, assets.size(), html);
        for (String asset : assets) {
            HttpResponse<byte[]> r = api.get(null, asset);
            assertEquals(200, r.statusCode(), asset);
            assertTrue(r.body().length > 10_000, asset);
            String type = r.headers().firstValue("Content-Type").orElse("");
            assertTrue(
                    asset.endsWith(".css") ? type.startsWith("text/css") : type.startsWith("text/javascript"),
                    asset + ": " + type);
            assertTrue(r.headers().firstValue("Cache-Control").orElse("").contains("immutable"), asset);
        }
        HttpResponse<byte[]> missing = api.get(null, "/webjars/swagger-ui/no-such-file.js");
        assertEquals(404, missing.statusCode());
        assertTrue(text(missing).contains("\"No such file: /webjars/swagger-ui/no-such-file.js\""), text(missing));
        assertEquals(404, api.get(null, "/webjars/swagger-ui/").statusCode());
        assertTrue(html.indexOf("http://") < 0 && html.indexOf("https://") < 0, "no CDN: " + html);
    }
}
