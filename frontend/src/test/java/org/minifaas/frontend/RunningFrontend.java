package org.minifaas.frontend;

import io.javalin.Javalin;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.UnaryOperator;
import org.minifaas.common.config.NatsSettings;
import org.minifaas.common.nats.NatsLayer;
import org.minifaas.common.ops.OpsSettings;
import org.minifaas.common.testing.NatsTestServer;

/** A frontend on a random loopback port, on its own real nats-server: what the HTTP tests talk to. */
final class RunningFrontend implements AutoCloseable {
    static final HttpClient HTTP =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    final NatsTestServer server;
    final NatsLayer nats;
    final Javalin app;
    final TaskService tasks;
    final LogService logs;
    final String base;

    private RunningFrontend(NatsTestServer server, NatsLayer nats, Javalin app, TaskService tasks, LogService logs) {
        this.server = server;
        this.nats = nats;
        this.app = app;
        this.tasks = tasks;
        this.logs = logs;
        this.base = "http://127.0.0.1:" + app.port();
    }

    static RunningFrontend start(UnaryOperator<NatsSettings> settings, List<String> admins) throws Exception {
        return start(settings, admins, false);
    }

    /** With {@code allowPrivateAddresses}, as REPO_ALLOW_PRIVATE_ADDRESSES=true. */
    static RunningFrontend start(
            UnaryOperator<NatsSettings> settings, List<String> admins, boolean allowPrivateAddresses) throws Exception {
        return start(settings, admins, allowPrivateAddresses, c -> c);
    }

    /** With a configuration changed by {@code config} (caps, limits). */
    static RunningFrontend start(
            UnaryOperator<NatsSettings> settings,
            List<String> admins,
            boolean allowPrivateAddresses,
            UnaryOperator<FrontendConfig> config)
            throws Exception {
        NatsTestServer server = NatsTestServer.start();
        NatsLayer nats = NatsLayer.connect(settings.apply(server.settings()), "frontend-test");
        FrontendConfig c = config.apply(testConfig(nats.settings(), admins, allowPrivateAddresses));
        TaskService tasks = new TaskService(nats, c.maxWaitingRequests(), c.maxWaitingRequestsPerUser());
        LogService logs = new LogService(nats, c.maxLogStreams(), c.maxLogStreamsPerUser());
        Javalin app =
                FrontendApp.create(c, tasks, logs, new SystemService(nats)).start("127.0.0.1", 0);
        return new RunningFrontend(server, nats, app, tasks, logs);
    }

    /** The defaults of the tests: loopback, a random port, http and https, no WEBHOOK_SECRET, no ops port. */
    static FrontendConfig testConfig(NatsSettings nats, List<String> admins, boolean allowPrivateAddresses) {
        return new FrontendConfig(
                nats,
                "127.0.0.1",
                0,
                Set.of("https", "http"),
                Set.copyOf(admins.stream().map(a -> a.toLowerCase(Locale.ROOT)).toList()),
                64 * 1024,
                FrontendConfig.DEFAULT_MAX_INJECT_BYTES,
                allowPrivateAddresses,
                FrontendConfig.DEFAULT_MAX_EXECUTION_SECONDS,
                FrontendConfig.DEFAULT_MAX_LOG_STREAMS,
                FrontendConfig.DEFAULT_MAX_WAITING_REQUESTS,
                FrontendConfig.DEFAULT_MAX_LOG_STREAMS_PER_USER,
                FrontendConfig.DEFAULT_MAX_WAITING_REQUESTS_PER_USER,
                null,
                OpsSettings.DISABLED);
    }

    /** {@code c} with another WEBHOOK_SECRET (null or empty: none). */
    static FrontendConfig withWebhookSecret(FrontendConfig c, String secret) {
        return new FrontendConfig(
                c.nats(),
                c.host(),
                c.port(),
                c.allowedSchemes(),
                c.adminEmails(),
                c.maxBodyBytes(),
                c.maxInjectBytes(),
                c.allowPrivateAddresses(),
                c.maxExecutionSeconds(),
                c.maxLogStreams(),
                c.maxWaitingRequests(),
                c.maxLogStreamsPerUser(),
                c.maxWaitingRequestsPerUser(),
                secret,
                c.ops());
    }

    /** {@code config} with other caps on log streams and waiting reads (of everyone; per user as they were). */
    static FrontendConfig withCaps(FrontendConfig c, int logStreams, int waitingRequests) {
        return new FrontendConfig(
                c.nats(),
                c.host(),
                c.port(),
                c.allowedSchemes(),
                c.adminEmails(),
                c.maxBodyBytes(),
                c.maxInjectBytes(),
                c.allowPrivateAddresses(),
                c.maxExecutionSeconds(),
                logStreams,
                waitingRequests,
                c.maxLogStreamsPerUser(),
                c.maxWaitingRequestsPerUser(),
                c.webhookSecret(),
                c.ops());
    }

    @Override
    public void close() throws Exception {
        app.stop();
        nats.close();
        server.close();
    }
}
