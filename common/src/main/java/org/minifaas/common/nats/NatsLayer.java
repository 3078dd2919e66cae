package org.minifaas.common.nats;

import io.nats.client.AuthenticationException;
import io.nats.client.Connection;
import io.nats.client.ConnectionListener;
import io.nats.client.JetStream;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamManagement;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.support.NatsKeyValueUtil;
import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.minifaas.common.config.NatsSettings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one entry point to NATS for every service: a named connection that reconnects forever, and
 * accessors for each queue and bucket of the system. Buckets are created on first use through
 * {@link Streams#ensureStream}, the single get-or-create helper.
 */
public final class NatsLayer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(NatsLayer.class);
    /** Bound on the cache of opened per-user buckets; cleared wholesale when full. */
    private static final int USER_CACHE_LIMIT = 10_000;

    private final Connection connection;
    private final JetStream js;
    private final JetStreamManagement jsm;
    private final NatsSettings settings;
    private final Streams streams;
    private final TaskQueue taskQueue;
    private final InjectionQueue injections;
    private final InjectorBucket injectorBucket;
    private final StreamJanitor janitor;
    private final TaskLogs logs;
    private final CancelSignals cancels;
    private final WebhookQueue webhooks;
    private final IdempotencyKeys idempotency;
    private final ResultsBucket resultsBucket;
    private volatile ObserverStore observer;
    private volatile WorkerRegistry workers;
    private final Map<String, UserTasks> userBuckets = new ConcurrentHashMap<>();

    private NatsLayer(Connection connection, NatsSettings settings) throws IOException {
        this.connection = connection;
        this.settings = settings;
        this.js = connection.jetStream();
        this.jsm = connection.jetStreamManagement();
        this.streams = new Streams(connection, jsm, settings.replicas());
        this.taskQueue = new TaskQueue(this);
        this.injections = new InjectionQueue(this);
        this.injectorBucket = new InjectorBucket(this);
        this.janitor = new StreamJanitor(this);
        this.logs = new TaskLogs(this);
        this.cancels = new CancelSignals(this);
        this.webhooks = new WebhookQueue(this);
        this.idempotency = new IdempotencyKeys(this);
        this.resultsBucket = new ResultsBucket(this);
    }

    /**
     * Connects, retrying the first connection until the server answers (services may start before
     * NATS does), then reconnecting forever after any later loss.
     */
    public static NatsLayer connect(NatsSettings settings, String serviceName) throws InterruptedException {
        Options.Builder builder = new Options.Builder()
                .servers(settings.servers())
                .connectionName(serviceName)
                .maxReconnects(-1)
                .reconnectWait(Duration.ofSeconds(1))
                .connectionTimeout(Duration.ofSeconds(5))
                // No reconnect buffer: a write made while disconnected fails at once instead of being replayed,
                // unseen, after the reconnect (a stale status landing over a newer one).
                .reconnectBufferSize(0)
                .connectionListener((conn, event) -> {
                    if (event == ConnectionListener.Events.DISCONNECTED
                            || event == ConnectionListener.Events.RECONNECTED) {
                        log.warn("NATS {} ({})", event.name().toLowerCase(), serviceName);
                    }
                });
        if (!settings.token().isEmpty()) {
            builder.token(settings.token().toCharArray());
        }
        Options options = builder.build();
        long delayMs = 250;
        while (true) {
            try {
                NatsLayer layer = new NatsLayer(Nats.connect(options), settings);
                log.info("connected to NATS at {} as {}", settings.serverUrl(), serviceName);
                return layer;
            } catch (AuthenticationException e) {
                // a wrong or missing NATS_TOKEN does not fix itself: fail at once
                throw new IllegalStateException(
                        "NATS at " + settings.serverUrl() + " refused the credentials: " + e.getMessage()
                                + " (check NATS_TOKEN)",
                        e);
            } catch (IOException e) {
                log.warn("NATS at {} not reachable yet ({}); retrying", settings.serverUrl(), e.getMessage());
                Thread.sleep(delayMs);
                delayMs = Math.min(delayMs * 2, 5_000);
            }
        }
    }

    public NatsSettings settings() {
        return settings;
    }

    public Connection connection() {
        return connection;
    }

    /** Whether the connection is up right now (it reconnects by itself after a loss). */
    public boolean isConnected() {
        return connection.getStatus() == Connection.Status.CONNECTED;
    }

    JetStream js() {
        return js;
    }

    JetStreamManagement jsm() {
        return jsm;
    }

    /** Stream administration: get-or-create, info, delete. */
    Streams streams() {
        return streams;
    }

    /** The durable work queue of tasks shared by all workers. */
    public TaskQueue taskQueue() {
        return taskQueue;
    }

    /** The injection queue (frontend to injector). */
    public InjectionQueue injections() {
        return injections;
    }

    /** The object store the injector fills. */
    public InjectorBucket injectorBucket() {
        return injectorBucket;
    }

    /** The live logs of tasks. */
    public TaskLogs logs() {
        return logs;
    }

    /** Cancellation signals to workers. */
    public CancelSignals cancels() {
        return cancels;
    }

    /** Webhook deliveries waiting to be sent. */
    public WebhookQueue webhooks() {
        return webhooks;
    }

    /** Idempotency keys of task creation. */
    public IdempotencyKeys idempotency() {
        return idempotency;
    }

    /** Deletes what retention emptied. */
    public StreamJanitor janitor() {
        return janitor;
    }

    /** The observer's bucket (status, worker count, event log), created when missing. */
    public ObserverStore observer() throws IOException, JetStreamApiException {
        if (observer == null) {
            observer = ObserverStore.open(this);
        }
        return observer;
    }

    /** The registry of live workers, created when missing. */
    public WorkerRegistry workers() throws IOException, JetStreamApiException {
        if (workers == null) {
            workers = WorkerRegistry.open(this);
        }
        return workers;
    }

    /** The task-status bucket of a user, created (with the quota) when missing. */
    public UserTasks userTasks(String userId) throws IOException, JetStreamApiException {
        String bucket = BucketNames.forUser(userId);
        UserTasks cached = userBuckets.get(bucket);
        if (cached != null) {
            return cached;
        }
        UserTasks opened = UserTasks.open(this, bucket);
        if (userBuckets.size() >= USER_CACHE_LIMIT) {
            userBuckets.clear();
        }
        userBuckets.put(bucket, opened);
        return opened;
    }

    /** The task-status bucket of a user if it exists; nothing is created. */
    public Optional<UserTasks> existingUserTasks(String userId) throws IOException, JetStreamApiException {
        String bucket = BucketNames.forUser(userId);
        UserTasks cached = userBuckets.get(bucket);
        if (cached != null) {
            return Optional.of(cached);
        }
        if (streams.streamInfo(NatsKeyValueUtil.toStreamName(bucket)).isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(userTasks(userId));
    }

    /** The result files of one task. */
    public ResultStore results(UUID taskId) {
        return new ResultStore(this, taskId);
    }

    ResultsBucket resultsBucket() {
        return resultsBucket;
    }

    /** A service's own stop, run before its connection closes. */
    @FunctionalInterface
    public interface Stop {
        void run() throws InterruptedException;
    }

    /**
     * The services' exit (SIGTERM, Ctrl-C): stop the service first (it may still need NATS to hand work
     * back), then close the connection.
     */
    public void closeOnShutdown(Stop stopServiceFirst) {
        ShutdownHook.install(stopServiceFirst, this);
    }

    @Override
    public void close() throws InterruptedException {
        connection.close();
    }
}
