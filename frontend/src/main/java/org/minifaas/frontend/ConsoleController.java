package org.minifaas.frontend;

import io.javalin.http.Context;
import io.javalin.http.NotFoundResponse;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The web console: static pages and their scripts and styles, from {@code /console/} in the jar. They carry no data
 * (the scripts fetch it from the API, which checks identity), so all of them but the admin page are public.
 */
final class ConsoleController {
    /** The pages: their errors are HTML pages for a browser (Accept: text/html), JSON for anything else. */
    static final Set<String> PAGES = Set.of("/", "/tasks/{id}", "/admin");

    static final String UPLOT = "/webjars/uplot/";
    /** Scripts and styles from this origin only; no inline script or style, no frames, no plugins. */
    static final String CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            + "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    private static final List<String> ASSETS = List.of("console.css", "common.js", "tasks.js", "task.js", "admin.js");

    private final Map<String, byte[]> assets = new LinkedHashMap<>();
    private final String tasksPage;
    private final String taskPage;
    private final String adminPage;
    private final String errorPage;

    ConsoleController() {
        for (String name : ASSETS) {
            assets.put(name, MetaController.resource("/console/" + name));
        }
        tasksPage = page("index.html");
        taskPage = page("task.html");
        adminPage = page("admin.html")
                .replace("{{uplot}}", UPLOT + MetaController.webjarVersion("org.webjars.npm", "uplot") + "/dist");
        errorPage = page("error.html");
    }

    /** {@code GET /}: submit a task, and the caller's tasks with live status. */
    void tasks(Context ctx) {
        html(ctx, tasksPage);
    }

    /** {@code GET /tasks/{id}}: one task's record, live log, download and cancel (the id is read by the script). */
    void task(Context ctx) {
        html(ctx, taskPage);
    }

    /** {@code GET /admin}: system status, history chart, event log, file injection (admins only: the route's role). */
    void admin(Context ctx) {
        html(ctx, adminPage);
    }

    /** {@code GET /console/{file}}: one of the console's scripts or its style sheet. */
    void asset(Context ctx) {
        String name = ctx.pathParam("file");
        byte[] content = assets.get(name);
        if (content == null) {
            throw new NotFoundResponse("No such console file: " + name);
        }
        String type = name.endsWith(".css") ? "text/css; charset=utf-8" : "text/javascript; charset=utf-8";
        ctx.header("Cache-Control", "no-cache")
                .header("X-Content-Type-Options", "nosniff")
                .contentType(type)
                .result(content);
    }

    /** Whether an error of this request is answered with an HTML page: a console page, asked for by a browser. */
    static boolean wantsHtml(Context ctx) {
        String accept = ctx.header("Accept");
        if (accept == null || !accept.toLowerCase(Locale.ROOT).contains("text/html")) {
            return false;
        }
        try {
            var endpoint = ctx.endpoints().matchedHttpEndpoint();
            return endpoint != null && PAGES.contains(endpoint.path);
        } catch (RuntimeException e) {
            return false; // no route matched (an unknown path)
        }
    }

    /** The HTML error page for {@code status}; the message is escaped (it may repeat what the request held). */
    void errorPage(Context ctx, int status, String message) {
        String title = switch (status) {
            case 401 -> "Not signed in";
            case 403 -> "Forbidden";
            case 404 -> "Not found";
            case 503 -> "Temporarily unavailable";
            default -> "Error";
        };
        ctx.status(status);
        html(
                ctx,
                errorPage
                        .replace("{{status}}", String.valueOf(status))
                        .replace("{{title}}", escape(title))
                        .replace("{{message}}", escape(message)));
    }

    private static void html(Context ctx, String page) {
        ctx.header("Content-Security-Policy", CSP)
                .header("X-Content-Type-Options", "nosniff")
                .header("Referrer-Policy", "same-origin")
                .header("Cache-Control", "no-cache")
                .html(page);
    }

    private static String page(String name) {
        return new String(MetaController.resource("/console/" + name), StandardCharsets.UTF_8);
    }

    static String escape(String text) {
        StringBuilder out = new StringBuilder(text.length());
        for (char c : text.toCharArray()) {
            switch (c) {
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '&' -> out.append("&amp;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> out.append(c);
            }
        }
        return out.toString();
    }
}
