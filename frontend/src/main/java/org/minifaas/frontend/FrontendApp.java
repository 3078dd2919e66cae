package org.minifaas.frontend;

import static io.javalin.apibuilder.ApiBuilder.delete;
import static io.javalin.apibuilder.ApiBuilder.get;
import static io.javalin.apibuilder.ApiBuilder.path;
import static io.javalin.apibuilder.ApiBuilder.post;

import io.javalin.Javalin;
import io.javalin.config.RoutesConfig;
import io.javalin.config.SizeUnit;
import io.javalin.http.BadRequestResponse;
import io.javalin.http.Context;
import io.javalin.http.ForbiddenResponse;
import io.javalin.http.HandlerType;
import io.javalin.http.HttpResponseException;
import io.javalin.http.MethodNotAllowedResponse;
import io.javalin.http.ServiceUnavailableResponse;
import java.io.IOException;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.minifaas.common.nats.QuotaExceededException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The frontend's route tree, access filter and error mapping; returns an unstarted server. */
public final class FrontendApp {
    private static final Logger log = LoggerFactory.getLogger(FrontendApp.class);
    static final String UNAVAILABLE = "The service is temporarily unavailable; try again.";
    static final String ADMINS_ONLY = "This endpoint is for administrators only.";

    /** The status of each domain failure (subclasses of {@link DomainException}). */
    private static final Map<Class<? extends DomainException>, Integer> STATUS = Map.of(
            DomainException.InvalidRequest.class, 400,
            DomainException.TaskNotFound.class, 404,
            DomainException.FileNotFound.class, 404,
            DomainException.TaskAlreadyFinal.class, 409,
            DomainException.TaskNotFinished.class, 409,
            DomainException.Unavailable.class, 503,
            DomainException.Busy.class, 503,
            DomainException.TooManyForUser.class, 429);

    private FrontendApp() {}

    public static Javalin create(FrontendConfig config, TaskService tasks, LogService logs, SystemService system) {
        return create(config, tasks, logs, system, FrontendMetrics.none());
    }

    /** @param metrics where every request is timed (by route) */
    public static Javalin create(
            FrontendConfig config, TaskService tasks, LogService logs, SystemService system, FrontendMetrics metrics) {
        LegacyController legacy = new LegacyController(config, tasks);
        TaskController taskApi = new TaskController(config, tasks);
        LogController logApi = new LogController(logs);
        SystemHistory history = SystemHistory.of(system);
        AdminController admin = new AdminController(config, system, history);
        MetaController meta = new MetaController(system);
        WebhookKeyController webhookKey = new WebhookKeyController(config);
        ConsoleController console = new ConsoleController();
        WebjarFiles webjars = new WebjarFiles();
        int multipartLimit = config.maxInjectBytes() + AdminController.MULTIPART_OVERHEAD;
        return Javalin.create(app -> {
            app.startup.showJavalinBanner = false;
            app.http.prefer405over404 = true;
            // log streams and waiting reads each hold a thread: room for all of them besides the usual requests
            QueuedThreadPool threads = new QueuedThreadPool(config.maxThreads(), 8, 60_000);
            threads.setName("JettyServerThreadPool");
            app.jetty.threadPool = threads;
            // what Jetty refuses before any route (431, 414, bad Content-Length...) is JSON too
            app.jetty.modifyServer(server -> server.setErrorHandler(new JsonErrorHandler()));
            app.http.maxRequestSize = Math.max(config.maxBodyBytes(), multipartLimit);
            app.jetty.multipartConfig.maxFileSize(multipartLimit, SizeUnit.BYTES);
            app.jetty.multipartConfig.maxTotalRequestSize(multipartLimit, SizeUnit.BYTES);
            app.jetty.multipartConfig.maxInMemoryFileSize(multipartLimit, SizeUnit.BYTES);
            app.events.serverStarted(history::start);
            app.events.serverStopping(history::close);

            metrics.measure(app.routes);
            app.routes.before(FrontendApp::refuseHead);
            app.routes.beforeMatched(ctx -> checkAccess(ctx, config, system));
            app.routes.apiBuilder(() -> {
                get("/healthz", meta::health, Role.PUBLIC);
                get("/docs", meta::docs, Role.PUBLIC);
                get("/v1/openapi.json", meta::openApi, Role.PUBLIC);

                get("/", console::tasks, Role.PUBLIC);
                get("/tasks/{id}", console::task, Role.PUBLIC);
                get("/admin", console::admin, Role.ADMIN);
                get("/console/{file}", console::asset, Role.PUBLIC);
                get(WebjarFiles.ROUTE, webjars::serve, Role.PUBLIC); // Swagger UI's files for /docs, uPlot's

                post("/createTask", legacy::createTask);
                get("/getTaskStatus", legacy::taskStatus);
                get("/getAllTasks", legacy::allTasks);
                get("/getTaskResult", legacy::taskResult);
                get("/getSystemStatus", admin::systemStatus, Role.ADMIN);
                post("/injectFile", admin::injectFile, Role.ADMIN);
                get("/v1/system/history", admin::history, Role.ADMIN);

                get("/v1/webhook-key", webhookKey::key);
                path("/v1/tasks", () -> {
                    post(taskApi::create);
                    get(taskApi::list);
                    path("{id}", () -> {
                        get(taskApi::get);
                        delete(taskApi::cancel);
                        get("logs", logApi::stream);
                        get("result", taskApi::result);
                        get("files/{name}", taskApi::file);
                    });
                });
            });
            mapErrors(app.routes, system, console);
        });
    }

    /**
     * HEAD is answered 405 on every path. Javalin answers it for a GET route with an empty 200 of its own, without
     * the route's role (an admin page, to anyone) and without running the route (a task id that is not the
     * caller's, or not one at all): a status that tells nothing true. Every route is read with GET.
     */
    private static void refuseHead(Context ctx) {
        if (ctx.method() == HandlerType.HEAD) {
            ctx.header("Allow", "GET");
            throw new MethodNotAllowedResponse("HEAD is not supported: use GET.");
        }
    }

    /**
     * Identity and roles, once for every matched request, in this order: who is calling (401), whether NATS is
     * there to answer at all (503 at once, instead of every call failing or waiting for a timeout), and the route's
     * role (403). Public routes (the console's and the webjars' files among them) skip all three.
     */
    private static void checkAccess(Context ctx, FrontendConfig config, SystemService system) {
        if (ctx.routeRoles().contains(Role.PUBLIC)) {
            return;
        }
        // one value each: with several, which one a proxy set and which one the client sent cannot be told apart
        for (String header : List.of(Identity.USER_HEADER, Identity.EMAIL_HEADER, TaskController.IDEMPOTENCY_HEADER)) {
            if (Collections.list(ctx.req().getHeaders(header)).size() > 1) {
                throw new BadRequestResponse("Send the header " + header + " once.");
            }
        }
        Identity identity = Identity.fromHeaders(ctx.header(Identity.USER_HEADER), ctx.header(Identity.EMAIL_HEADER));
        ctx.attribute(Requests.IDENTITY, identity);
        if (!system.natsAvailable()) {
            throw new ServiceUnavailableResponse(UNAVAILABLE);
        }
        if (ctx.routeRoles().contains(Role.ADMIN) && !identity.isAdmin(config.adminEmails())) {
            throw new ForbiddenResponse(ADMINS_ONLY);
        }
    }

    /**
     * Every error a route can end in, to its status and a JSON {"error": ...} body (an HTML page for a browser on
     * one of the console's pages).
     */
    private static void mapErrors(RoutesConfig routes, SystemService system, ConsoleController console) {
        routes.exception(DomainException.class, (e, ctx) -> {
            int status = STATUS.getOrDefault(e.getClass(), 500);
            if (e instanceof DomainException.Busy || e instanceof DomainException.TooManyForUser) {
                ctx.header("Retry-After", "1");
            }
            error(console, ctx, status, e.getMessage());
        });
        routes.exception(QuotaExceededException.class, (e, ctx) -> error(console, ctx, 429, e.getMessage()));
        routes.exception(IOException.class, (e, ctx) -> {
            log.warn("{} {}: NATS unavailable: {}", ctx.method(), ctx.path(), e.toString());
            error(console, ctx, 503, UNAVAILABLE);
        });
        routes.exception(HttpResponseException.class, (e, ctx) -> {
            if (e.getStatus() == 413) {
                ctx.header("Connection", "close"); // the rest of the refused body may be left unread: no reuse
            }
            error(console, ctx, e.getStatus(), e.getMessage());
        });
        routes.exception(Exception.class, (e, ctx) -> {
            if (!system.natsAvailable()) {
                // NATS went away during the call (jnats refuses writes while disconnected)
                log.warn("{} {}: NATS unavailable: {}", ctx.method(), ctx.path(), e.toString());
                error(console, ctx, 503, UNAVAILABLE);
                return;
            }
            log.error("{} {} failed", ctx.method(), ctx.path(), e);
            error(console, ctx, 500, "Internal error; the request may be retried.");
        });
    }

    private static void error(ConsoleController console, Context ctx, int status, String message) {
        if (ConsoleController.wantsHtml(ctx)) {
            console.errorPage(ctx, status, message);
            return;
        }
        ctx.status(status).json(Map.of("error", message));
    }
}
