package org.minifaas.frontend;

import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Set;
import org.minifaas.common.config.Env;
import org.minifaas.common.config.NatsSettings;
import org.minifaas.common.net.AddressPolicy;
import org.minifaas.common.ops.OpsSettings;

/**
 * The frontend's configuration, read once at start.
 *
 * @param host            FRONTEND_HOST: the interface to listen on
 * @param port            FRONTEND_PORT
 * @param allowedSchemes  ALLOWED_REPO_SCHEMES: URL schemes a repository may use
 * @param adminEmails     ADMIN_USERS: e-mail addresses (lower-case) allowed to use the admin endpoints
 * @param maxBodyBytes    MAX_REQUEST_BYTES: largest JSON body accepted
 * @param maxInjectBytes  MAX_INJECT_BYTES: largest file accepted by /injectFile (must fit a NATS message)
 * @param allowPrivateAddresses REPO_ALLOW_PRIVATE_ADDRESSES: accept repositories (and callback URLs) on loopback,
 *                        private and link-local addresses (a local stack serving Git on loopback); off, as it lets
 *                        users reach internal services through the workers
 * @param maxExecutionSeconds MAX_SECONDS_EXECUTION_PER_REQUEST: the workers' run limit, the most a task's own
 *                        {@code timeoutSeconds} may ask for
 * @param maxLogStreams   log streams (SSE) open at once; more are refused with 503 (each holds a server thread)
 * @param maxWaitingRequests {@code GET /v1/tasks/{id}?waitSeconds=N} requests waiting at once; more get 503
 * @param maxLogStreamsPerUser log streams one user may hold open at once; more get 429 (so that one user cannot
 *                        take all of {@code maxLogStreams})
 * @param maxWaitingRequestsPerUser waiting reads one user may hold at once; more get 429
 * @param webhookSecret   WEBHOOK_SECRET (the observer's): each user's webhook key is derived from it and handed out
 *                        by {@code GET /v1/webhook-key}; null when unset (the route answers 404)
 * @param ops             METRICS_HOST, METRICS_PORT: the ops server (metrics, health), apart from the API
 */
public record FrontendConfig(
        NatsSettings nats,
        String host,
        int port,
        Set<String> allowedSchemes,
        Set<String> adminEmails,
        int maxBodyBytes,
        int maxInjectBytes,
        boolean allowPrivateAddresses,
        int maxExecutionSeconds,
        int maxLogStreams,
        int maxWaitingRequests,
        int maxLogStreamsPerUser,
        int maxWaitingRequestsPerUser,
        String webhookSecret,
        OpsSettings ops) {

    /** Below NATS's default max_payload (1 MiB), with room for the message headers. */
    static final int DEFAULT_MAX_INJECT_BYTES = 1_000_000;
    /** The workers' default run limit (MAX_SECONDS_EXECUTION_PER_REQUEST). */
    static final int DEFAULT_MAX_EXECUTION_SECONDS = 20;

    static final int DEFAULT_MAX_LOG_STREAMS = 200;
    static final int DEFAULT_MAX_WAITING_REQUESTS = 100;
    static final int DEFAULT_MAX_LOG_STREAMS_PER_USER = 10;
    static final int DEFAULT_MAX_WAITING_REQUESTS_PER_USER = 10;

    public FrontendConfig {
        webhookSecret = webhookSecret == null || webhookSecret.isEmpty() ? null : webhookSecret;
    }

    /** The schemes a worker can clone (public repositories only). */
    static final Set<String> KNOWN_SCHEMES = Set.of("https", "http", "git");

    public static FrontendConfig fromEnv(Env env) {
        NatsSettings nats = NatsSettings.fromEnv(env);
        String host = env.string("FRONTEND_HOST", "0.0.0.0");
        int port = env.intValue("FRONTEND_PORT", 8080, 1, 65535);
        Set<String> schemes = env.choices("ALLOWED_REPO_SCHEMES", "https,http", KNOWN_SCHEMES);
        if (schemes.isEmpty()) {
            env.problem("ALLOWED_REPO_SCHEMES must name at least one scheme");
        }
        Set<String> admins = new LinkedHashSet<>();
        for (String email : env.list("ADMIN_USERS", "")) {
            admins.add(email.toLowerCase(Locale.ROOT));
        }
        int maxBody = env.intValue("MAX_REQUEST_BYTES", 64 * 1024, 1024, 16 * 1024 * 1024);
        int maxInject = env.intValue("MAX_INJECT_BYTES", DEFAULT_MAX_INJECT_BYTES, 1, 64 * 1024 * 1024);
        boolean allowPrivate = env.bool(AddressPolicy.ALLOW_PRIVATE, false);
        // the workers' limit (same variable, same bounds): a task may ask for less, never more
        int maxExecution = env.intValue("MAX_SECONDS_EXECUTION_PER_REQUEST", DEFAULT_MAX_EXECUTION_SECONDS, 1, 3600);
        // the observer's secret: the frontend only derives each user's key from it (GET /v1/webhook-key)
        String webhookSecret = env.secret("WEBHOOK_SECRET", "");
        OpsSettings ops = OpsSettings.fromEnv(env);
        env.validate();
        return new FrontendConfig(
                nats,
                host,
                port,
                schemes,
                Set.copyOf(admins),
                maxBody,
                maxInject,
                allowPrivate,
                maxExecution,
                DEFAULT_MAX_LOG_STREAMS,
                DEFAULT_MAX_WAITING_REQUESTS,
                DEFAULT_MAX_LOG_STREAMS_PER_USER,
                DEFAULT_MAX_WAITING_REQUESTS_PER_USER,
                webhookSecret,
                ops);
    }

    /** Whether webhooks can be verified at all: there is a WEBHOOK_SECRET to derive the users' keys from. */
    public boolean webhooksConfigured() {
        return webhookSecret != null;
    }

    /** Which addresses a repository URL may lead to. */
    public AddressPolicy addressPolicy() {
        return new AddressPolicy(allowPrivateAddresses);
    }

    /** As the record's, with the secret masked: a configuration may end up in a log line. */
    @Override
    public String toString() {
        return "FrontendConfig[nats=" + nats + ", host=" + host + ", port=" + port + ", allowedSchemes="
                + allowedSchemes
                + ", adminEmails=" + adminEmails + ", maxBodyBytes=" + maxBodyBytes + ", maxInjectBytes="
                + maxInjectBytes + ", allowPrivateAddresses=" + allowPrivateAddresses + ", maxExecutionSeconds="
                + maxExecutionSeconds + ", maxLogStreams=" + maxLogStreams + ", maxWaitingRequests="
                + maxWaitingRequests + ", maxLogStreamsPerUser=" + maxLogStreamsPerUser
                + ", maxWaitingRequestsPerUser=" + maxWaitingRequestsPerUser + ", webhookSecret="
                + (webhookSecret == null ? "" : "****") + ", ops=" + ops + "]";
    }

    /** Server threads: Javalin's default 250 plus one for each request that may be held open. */
    public int maxThreads() {
        return 250 + maxLogStreams + maxWaitingRequests;
    }
}
