package org.minifaas.frontend;

import io.javalin.http.Context;
import io.javalin.http.NotFoundResponse;
import java.io.IOException;
import java.io.InputStream;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * {@code GET /webjars/<path>}: the files of the webjars on the classpath (Swagger UI for /docs, uPlot for the
 * console), read through the class loader's own jar index. Javalin's webjar handler mounts the fat jar as a zip file
 * system instead, which kept an index of all its ~13 000 entries several times over on the heap (~15 MiB of the
 * frontend's ~25 MiB live heap); docs/BENCHMARKS.md has the measurement.
 */
final class WebjarFiles {
    static final String ROUTE = "/webjars/<path>";
    private static final String ROOT = "META-INF/resources/webjars/";
    /** Segments of letters, digits, '.', '_' and '-' only, none of them "." or "..": nothing outside the webjars. */
    private static final Pattern SAFE = Pattern.compile("(?!.*(^|/)\\.{1,2}(/|$))[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*");

    private static final Map<String, String> TYPES = Map.of(
            "js", "text/javascript; charset=utf-8",
            "css", "text/css; charset=utf-8",
            "html", "text/html; charset=utf-8",
            "json", "application/json",
            "map", "application/json",
            "png", "image/png",
            "svg", "image/svg+xml");

    /** Serves one file; anything else (a missing file, a folder, an unknown type, a path that climbs out) is 404. */
    void serve(Context ctx) throws IOException {
        String path = ctx.pathParam("path");
        String name = resourceName(path);
        InputStream in =
                name == null ? null : WebjarFiles.class.getClassLoader().getResourceAsStream(name);
        if (in == null) {
            throw new NotFoundResponse("No such file: /webjars/" + path);
        }
        // a webjar's path holds its version: a file never changes under its name
        ctx.header("Cache-Control", "public, max-age=31536000, immutable")
                .header("X-Content-Type-Options", "nosniff")
                .contentType(TYPES.get(extension(path)))
                .result(in);
    }

    /** The class-path resource behind a request path, or null when the path may not name one. */
    static String resourceName(String path) {
        return SAFE.matcher(path).matches() && TYPES.containsKey(extension(path)) ? ROOT + path : null;
    }

    private static String extension(String path) {
        int dot = path.lastIndexOf('.');
        return dot < 0 ? "" : path.substring(dot + 1).toLowerCase(Locale.ROOT);
    }
}
