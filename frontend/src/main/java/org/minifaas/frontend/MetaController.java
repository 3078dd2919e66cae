package org.minifaas.frontend;

import io.javalin.http.Context;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Properties;

/** What needs no identity: the health check, the OpenAPI document and Swagger UI over it. */
final class MetaController {
    /** Swagger UI's files, served from the webjar on the classpath (no CDN). */
    static final String WEBJAR = "/webjars/swagger-ui/";

    private final SystemService system;
    private final byte[] openApi;
    private final String docsPage;

    MetaController(SystemService system) {
        this.system = system;
        this.openApi = resource("/openapi.json");
        this.docsPage = new String(resource("/docs.html"), StandardCharsets.UTF_8)
                .replace("{{swaggerUi}}", WEBJAR + webjarVersion("org.webjars", "swagger-ui"));
    }

    /** {@code GET /healthz}: whether the frontend is connected to NATS. */
    void health(Context ctx) {
        if (system.natsAvailable()) {
            ctx.json(Map.of("status", "ok"));
        } else {
            ctx.status(503).json(Map.of("status", "nats unavailable"));
        }
    }

    /** {@code GET /v1/openapi.json}: the hand-written OpenAPI 3.1 document of every endpoint. */
    void openApi(Context ctx) {
        ctx.contentType("application/json").result(openApi);
    }

    /** {@code GET /docs}: Swagger UI over {@code /v1/openapi.json}. */
    void docs(Context ctx) {
        ctx.html(docsPage);
    }

    /** A file of the frontend's jar, which must be there. */
    static byte[] resource(String name) {
        try (InputStream in = MetaController.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException(name + " is missing from the frontend's jar");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A webjar's version, from its Maven metadata (its files sit under a folder of that name). */
    static String webjarVersion(String groupId, String artifactId) {
        Properties p = new Properties();
        try (InputStream in = MetaController.class.getResourceAsStream(
                "/META-INF/maven/" + groupId + "/" + artifactId + "/pom.properties")) {
            if (in == null) {
                throw new IllegalStateException("the " + artifactId + " webjar is missing from the classpath");
            }
            p.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return p.getProperty("version");
    }
}
