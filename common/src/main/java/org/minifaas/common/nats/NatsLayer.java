package org.minifaas.common.nats;

import io.nats.client.AuthenticationException;
import io.nats.client.Connection;
import io.nats.client.ConnectionListener;
import io.nats.client.JetStream;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamManagement;
import io.nats.client.KeyValue;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.api.AckPolicy;
import io.nats.client.api.ConsumerConfiguration;
import io.nats.client.api.KeyValueConfiguration;
import io.nats.client.api.RetentionPolicy;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import io.nats.client.api.StreamInfo;
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
 * {@link #ensureStream}, the single get-or-create helper.
 */
public final class NatsLayer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(NatsLayer.class);
    /** Bound on the cache of opened per-user buckets; cleared wholesale when full. */
    private static final int USER_CACHE_LIMIT = 10_000;

    private final Connection connection;
    private final JetStream js;
    private final JetStreamManagement jsm;
    private final NatsSettings settings;
    private final TaskQueue taskQueue;
    private final InjectionQueue injections;
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
        this.taskQueue = new TaskQueue(this);
        this.injections = new InjectionQueue(this);
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
                throw new IllegalStateException("NATS at " + settings.serverUrl() + " refused the credentials: "
                        + e.getMessage() + " (check NATS_TOKEN)", e);
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

    /** The durable work queue of tasks shared by all workers. */
    public TaskQueue taskQueue() {
        return taskQueue;
    }

    /** The injection queue and the injector bucket. */
    public InjectionQueue injections() {
        return injections;
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
        if (streamInfo(BucketNames.kvStream(bucket)).isEmpty()) {
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

    /** Stream info, or empty when the stream does not exist. */
    Optional<StreamInfo> streamInfo(String stream) throws IOException, JetStreamApiException {
        try {
            return Optional.of(jsm.getStreamInfo(stream));
        } catch (JetStreamApiException e) {
            if (ApiErrors.is(e, ApiErrors.STREAM_NOT_FOUND)) {
                return Optional.empty();
            }
            throw e;
        }
    }

    /**
     * The single get-or-create helper: creates the stream when missing, with NATS_REPLICAS copies, and brings an
     * existing stream to the wanted configuration when they differ (a changed quota, retention or replica count).
     * Safe when several processes race to create the same stream.
     */
    StreamInfo ensureStream(StreamConfiguration config) throws IOException, JetStreamApiException {
        StreamConfiguration wanted = StreamConfiguration.builder(config).replicas(settings.replicas()).build();
        Optional<StreamInfo> existing = streamInfo(wanted.getName());
        if (existing.isEmpty()) {
            try {
                return jsm.addStream(wanted);
            } catch (JetStreamApiException e) {
                if (!ApiErrors.is(e, ApiErrors.STREAM_NAME_IN_USE)) {
                    throw e;
                }
                existing = streamInfo(wanted.getName());
                if (existing.isEmpty()) {
                    throw e;
                }
            }
        }
        StreamConfiguration have = existing.get().getConfiguration();
        if (have.getMaxMsgs() != wanted.getMaxMsgs() || !have.getMaxAge().equals(wanted.getMaxAge())
                || have.getMaxBytes() != wanted.getMaxBytes()
                || !have.getDuplicateWindow().equals(wanted.getDuplicateWindow())
                || have.getReplicas() != wanted.getReplicas()) {
            // a stream made before NATS_REPLICAS changed (say, on one server, then the cluster) is brought to the
            // replicas wanted: never left at one copy unseen
            if (have.getReplicas() != wanted.getReplicas()) {
                log.warn("stream {} has {} replica(s); changing it to NATS_REPLICAS={}", wanted.getName(),
                        have.getReplicas(), wanted.getReplicas());
            } else {
                log.info("updating stream {} limits", wanted.getName());
            }
            return jsm.updateStream(StreamConfiguration.builder(have)
                    .maxMessages(wanted.getMaxMsgs())
                    .maxAge(wanted.getMaxAge())
                    .maxBytes(wanted.getMaxBytes())
                    .duplicateWindow(wanted.getDuplicateWindow())
                    .replicas(wanted.getReplicas())
                    .build());
        }
        return existing.get();
    }

    /**
     * Get-or-create of a work queue: a work-queue stream on one subject and the one durable pull
     * consumer all its readers share. {@code maxAge} zero keeps messages until they are taken.
     */
    void ensureWorkQueue(String stream, String subject, String consumer, Duration maxAge, Duration ackWait)
            throws IOException, JetStreamApiException {
        ensureWorkQueue(stream, subject, consumer, maxAge, ackWait, DEFAULT_MAX_ACK_PENDING);
    }

    /** JetStream's own default: messages handed out and not yet acknowledged, beyond which none is handed out. */
    static final long DEFAULT_MAX_ACK_PENDING = 1000;

    /**
     * As above, with the most messages that may be out unacknowledged at once: a queue whose
     * messages wait out delayed retries unacknowledged must not let those retries block new messages.
     */
    void ensureWorkQueue(String stream, String subject, String consumer, Duration maxAge, Duration ackWait,
                         long maxAckPending) throws IOException, JetStreamApiException {
        Duration window = Duration.ofMinutes(2);
        if (!maxAge.isZero() && maxAge.compareTo(window) < 0) {
            window = maxAge; // JetStream refuses a de-duplication window longer than the max age
        }
        ensureStream(StreamConfiguration.builder()
                .name(stream)
                .subjects(subject)
                .retentionPolicy(RetentionPolicy.WorkQueue)
                .storageType(StorageType.File)
                .maxAge(maxAge)
                .duplicateWindow(window)
                .build());
        // Deliveries are not capped by the server (maxDeliver -1): the readers count them themselves, so a
        // message the server gave up on can never stay parked in the stream.
        jsm.addOrUpdateConsumer(stream, ConsumerConfiguration.builder()
                .durable(consumer)
                .filterSubject(subject)
                .ackPolicy(AckPolicy.Explicit)
                .ackWait(ackWait)
                .maxDeliver(-1)
                .maxAckPending(maxAckPending)
                .build());
    }

    /** Get-or-create of a key-value bucket. */
    KeyValue ensureKeyValue(KeyValueConfiguration config) throws IOException, JetStreamApiException {
        ensureStream(config.getBackingConfig());
        return connection.keyValue(config.getBucketName());
    }

    /** Deletes a stream; true when it existed. */
    boolean deleteStream(String stream) throws IOException, JetStreamApiException {
        try {
            return jsm.deleteStream(stream);
        } catch (JetStreamApiException e) {
            if (ApiErrors.is(e, ApiErrors.STREAM_NOT_FOUND)) {
                return false;
            }
            throw e;
        }
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
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                stopServiceFirst.run();
                close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "shutdown"));
    }

    @Override
    public void close() throws InterruptedException {
        connection.close();
    }
}
