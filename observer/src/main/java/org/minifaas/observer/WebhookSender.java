package org.minifaas.observer;

import io.nats.client.JetStreamApiException;
import io.nats.client.Message;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.minifaas.common.Json;
import org.minifaas.common.Threads;
import org.minifaas.common.config.Env;
import org.minifaas.common.model.TaskRecord;
import org.minifaas.common.model.TaskRecord.Callback;
import org.minifaas.common.model.TaskRecord.DeliveryState;
import org.minifaas.common.nats.NatsLayer;
import org.minifaas.common.nats.UserTasks;
import org.minifaas.common.nats.WebhookQueue;
import org.minifaas.common.net.AddressPolicy;
import org.minifaas.common.webhook.WebhookKeys;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers webhooks from the webhook queue: for each job, POSTs the task's record, signed, to its callback URL and
 * records the delivery state in the record's callback field. A failed attempt is recorded RETRYING and the job is
 * handed back to the queue with the next delay of the schedule (the queue, not this process, remembers it: a restart
 * loses nothing); a 2xx, the last failed attempt or a refused address settles it (DELIVERED or FAILED), and only then
 * is the job acknowledged. The attempt number is the queue's delivery count.
 */
public final class WebhookSender implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(WebhookSender.class);
    static final String NOT_CONFIGURED = "webhooks are not configured on this server (WEBHOOK_SECRET unset)";
    /** A third of the queue's 60 s ack wait: a slow attempt keeps its job. */
    static final Duration HEARTBEAT = Duration.ofSeconds(20);
    /** On close, how long an attempt under way may take before it is interrupted and its job handed back. */
    static final Duration STOP_GRACE = Duration.ofSeconds(5);

    /**
     * The webhook settings, read with the observer's.
     *
     * @param secret                WEBHOOK_SECRET: the HMAC key (empty: deliveries are marked FAILED, never sent
     *                              unsigned)
     * @param retries               WEBHOOK_RETRY_SECONDS: the delay before each retry (one attempt more than delays)
     * @param timeout               WEBHOOK_TIMEOUT_SECONDS: limit on connecting, and again on the response's arrival
     * @param allowPrivateAddresses REPO_ALLOW_PRIVATE_ADDRESSES: callbacks to loopback and private addresses too
     * @param senders               WEBHOOK_SENDERS: deliveries made at once
     */
    public record Settings(
            String secret, List<Duration> retries, Duration timeout, boolean allowPrivateAddresses, int senders) {
        public static final String DEFAULT_RETRIES = "10,30,60,120,240,480";

        public Settings {
            secret = secret == null ? "" : secret;
            retries = List.copyOf(retries);
        }

        public static Settings fromEnv(Env env) {
            String secret = env.secret("WEBHOOK_SECRET", "");
            List<Duration> retries = new ArrayList<>();
            for (String item : env.list("WEBHOOK_RETRY_SECONDS", DEFAULT_RETRIES)) {
                try {
                    long seconds = Long.parseLong(item);
                    if (seconds < 1 || seconds > 86_400) {
                        throw new NumberFormatException();
                    }
                    retries.add(Duration.ofSeconds(seconds));
                } catch (NumberFormatException e) {
                    env.problem("WEBHOOK_RETRY_SECONDS contains '" + item
                            + "'; each delay must be a whole number of seconds from 1 to 86400");
                }
            }
            if (retries.isEmpty()) {
                env.problem("WEBHOOK_RETRY_SECONDS must list at least one delay (seconds, comma-separated)");
            }
            return new Settings(
                    secret,
                    retries,
                    env.seconds("WEBHOOK_TIMEOUT_SECONDS", 10, 1, 300),
                    env.bool(AddressPolicy.ALLOW_PRIVATE, false),
                    env.intValue("WEBHOOK_SENDERS", 4, 1, 64));
        }

        public boolean signing() {
            return !secret.isEmpty();
        }

        /** The delay before the retry after failed attempt {@code attempt} (1-based); empty after the last. */
        public Optional<Duration> delayAfter(long attempt) {
            return attempt >= 1 && attempt <= retries.size()
                    ? Optional.of(retries.get((int) attempt - 1))
                    : Optional.empty();
        }

        /** Never prints the secret. */
        @Override
        public String toString() {
            return "WebhookSender.Settings[secret " + (signing() ? "****" : "unset") + ", retries " + retries
                    + ", timeout " + timeout + ", allowPrivateAddresses " + allowPrivateAddresses + ", senders "
                    + senders + "]";
        }
    }

    private final NatsLayer nats;
    private final Settings settings;
    private final AddressPolicy addresses;
    private final WebhookClient client; // null without a secret: nothing is sent
    private final List<Thread> threads = new ArrayList<>();
    private final ObserverMetrics metrics;
    private final ScheduledExecutorService heartbeats =
            Executors.newSingleThreadScheduledExecutor(Threads.daemon("webhook-heartbeat"));
    private volatile boolean running;

    public WebhookSender(NatsLayer nats, Settings settings) {
        this(nats, settings, ObserverMetrics.none());
    }

    /** @param metrics where each attempt's outcome is counted */
    public WebhookSender(NatsLayer nats, Settings settings, ObserverMetrics metrics) {
        this.nats = nats;
        this.metrics = metrics;
        this.settings = settings;
        this.addresses = new AddressPolicy(settings.allowPrivateAddresses());
        this.client = settings.signing() ? new WebhookClient(settings.timeout(), addresses) : null;
    }

    /** Starts WEBHOOK_SENDERS threads taking from the queue. */
    public void start() throws IOException, JetStreamApiException {
        nats.webhooks().ensure();
        if (!settings.signing()) {
            log.warn("WEBHOOK_SECRET is unset: callbacks are not sent (never unsigned); their records say FAILED");
        }
        running = true;
        for (int i = 0; i < settings.senders(); i++) {
            Thread t = Threads.daemon("webhook-sender-" + i)
                    .newThread(() -> nats.webhooks().take(() -> running, this::handle));
            threads.add(t);
            t.start();
        }
        log.info(
                "webhook sender started: {} at once, retries after {}, timeout {} s",
                settings.senders(),
                settings.retries().stream().map(Duration::toSeconds).toList(),
                settings.timeout().toSeconds());
    }

    /** One job: one attempt, recorded, then acknowledged or handed back for the next. */
    void handle(Message message) throws InterruptedException {
        WebhookQueue.Job job;
        try {
            job = WebhookQueue.decode(message);
            if (job.taskId() == null || job.userId() == null) {
                throw new IllegalArgumentException("no task or user id");
            }
        } catch (RuntimeException e) {
            log.error("dropping a malformed webhook job: {}", e.toString());
            message.term();
            return;
        }
        long attempt = message.metaData().deliveredCount();
        try {
            attempt(job, attempt, message);
        } catch (IOException | JetStreamApiException e) {
            // the record could not be read or written: unacknowledged, the job comes back after the ack wait
            log.warn(
                    "webhook of task {} attempt {}: NATS failed, the job comes back later: {}",
                    job.taskId(),
                    attempt,
                    e.toString());
        } catch (InterruptedException e) {
            message.nak(); // stopping mid-attempt: hand the job back at once
            log.info(
                    "webhook of task {} attempt {} interrupted by the stop; the job is handed back",
                    job.taskId(),
                    attempt);
            throw e;
        } catch (RuntimeException e) {
            if (!running) {
                message.nak(); // stopping: hand the job back rather than judge it
                return;
            }
            log.error("dropping the webhook of task {}: {}", job.taskId(), e.toString());
            message.term();
        }
    }

    private void attempt(WebhookQueue.Job job, long attempt, Message message)
            throws IOException, JetStreamApiException, InterruptedException {
        long start = System.nanoTime();
        UUID id = job.taskId();
        Optional<UserTasks> tasks = nats.existingUserTasks(job.userId()); // a gone user's bucket is not recreated
        Optional<TaskRecord> found =
                tasks.isEmpty() ? Optional.empty() : tasks.get().record(id);
        if (found.isEmpty()) {
            log.warn("webhook of task {} dropped: its record is gone (expired or never written)", id);
            message.ack();
            return;
        }
        TaskRecord record = found.get();
        if (record.callback() == null) {
            log.warn("webhook of task {} dropped: the task has no callback URL", id);
            message.ack();
            return;
        }
        if (settled(record.callback())) {
            log.info("webhook of task {} already {}", id, record.callback().state());
            message.ack();
            return;
        }
        UserTasks bucket = tasks.get();
        if (client == null) {
            settle(bucket, id, DeliveryState.FAILED, attempt, NOT_CONFIGURED, message, start);
            return;
        }
        ScheduledFuture<?> beat = heartbeats.scheduleAtFixedRate(
                () -> keepAlive(message), HEARTBEAT.toMillis(), HEARTBEAT.toMillis(), TimeUnit.MILLISECONDS);
        WebhookClient.Outcome outcome;
        try {
            // checked before every attempt: the host's addresses may have changed since the last
            Target target = target(record.callback().url());
            if (target.refusal() != null) {
                settle(bucket, id, DeliveryState.FAILED, attempt, target.refusal(), message, start);
                return;
            }
            if (!record.status().isFinal()) {
                // queued before the final record was written: try again later, like a failed attempt
                outcome = new WebhookClient.Outcome(0, "the task has not ended yet (" + record.status() + ")");
            } else {
                byte[] body = Json.toBytes(record);
                // signed with the owner's own key: a key shared by all users would let any of them sign for another
                String signature =
                        new WebhookSignature(WebhookKeys.forUser(settings.secret(), job.userId())).sign(body);
                outcome = client.post(target.url(), id + "-" + attempt, body, signature);
            }
        } finally {
            beat.cancel(false);
        }
        if (outcome.delivered()) {
            settle(bucket, id, DeliveryState.DELIVERED, attempt, null, message, start);
            return;
        }
        Optional<Duration> delay = settings.delayAfter(attempt);
        if (delay.isEmpty()) {
            settle(bucket, id, DeliveryState.FAILED, attempt, outcome.error(), message, start);
            return;
        }
        Optional<TaskRecord> stored =
                bucket.update(id, callbackState(DeliveryState.RETRYING, attempt, outcome.error()));
        if (stored.isEmpty()
                || stored.get().callback() == null
                || settled(stored.get().callback())) {
            log.info(
                    "webhook of task {} attempt {} failed ({}), but the record is gone or settled meanwhile",
                    id,
                    attempt,
                    outcome.error());
            message.ack();
            return;
        }
        message.nakWithDelay(delay.get());
        metrics.webhookRetried();
        log.info(
                "webhook of task {} attempt {} failed in {} ms: {}; next attempt in {} s",
                id,
                attempt,
                millisSince(start),
                outcome.error(),
                delay.get().toSeconds());
    }

    /** Records the final state, then acknowledges the job. */
    private void settle(
            UserTasks bucket, UUID id, DeliveryState state, long attempt, String error, Message message, long start)
            throws IOException, JetStreamApiException {
        Optional<TaskRecord> stored = bucket.update(id, callbackState(state, attempt, error));
        message.ack();
        if (stored.isEmpty()) {
            log.warn("webhook of task {} {} on attempt {}, but its record is gone", id, state, attempt);
        } else if (stored.get().callback() == null || stored.get().callback().state() != state) {
            log.info(
                    "webhook of task {} attempt {} ended {}, but another attempt settled it meanwhile",
                    id,
                    attempt,
                    state);
        } else if (state == DeliveryState.DELIVERED) {
            metrics.webhookDelivered();
            log.info("webhook of task {} delivered on attempt {} in {} ms", id, attempt, millisSince(start));
        } else {
            metrics.webhookFailed();
            log.warn("webhook of task {} FAILED on attempt {}: {}", id, attempt, error);
        }
    }

    /** A change of the callback field alone; none once settled (another sender got there first). */
    private static UnaryOperator<TaskRecord> callbackState(DeliveryState state, long attempt, String error) {
        return r -> {
            Callback c = r.callback();
            if (c == null || settled(c)) {
                return r;
            }
            String deliveredAt = state == DeliveryState.DELIVERED ? TaskRecord.now() : null;
            return r.withCallback(new Callback(c.url(), state, (int) attempt, error, deliveredAt));
        };
    }

    private static boolean settled(Callback callback) {
        return callback.state() == DeliveryState.DELIVERED || callback.state() == DeliveryState.FAILED;
    }

    /** Where to send, or why not (FAILED at once: retrying cannot change it). */
    private record Target(URI url, String refusal) {}

    private Target target(String callbackUrl) {
        URI url;
        try {
            url = new URI(String.valueOf(callbackUrl));
        } catch (URISyntaxException e) {
            return new Target(null, "invalid callback URL");
        }
        String scheme = url.getScheme() == null ? "" : url.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            return new Target(null, "callback URLs must be http or https");
        }
        if (url.getHost() == null || url.getHost().isEmpty()) {
            return new Target(null, "the callback URL has no host");
        }
        // the same rules as repository URLs; common words its reasons for repositories
        return addresses
                .refusal(url)
                .map(reason -> new Target(
                        null,
                        reason.replace("the repository URL", "the callback URL").replace("repositories", "callbacks")))
                .orElse(new Target(url, null));
    }

    private static void keepAlive(Message message) {
        try {
            message.inProgress();
        } catch (RuntimeException e) {
            log.debug("in-progress signal failed: {}", e.toString());
        }
    }

    private static long millisSince(long start) {
        return (System.nanoTime() - start) / 1_000_000;
    }

    /** Stops taking jobs; an attempt under way may finish for {@link #STOP_GRACE}, then its job is handed back. */
    @Override
    public void close() throws InterruptedException {
        running = false;
        long deadline = System.nanoTime() + STOP_GRACE.toNanos();
        for (Thread t : threads) {
            t.join(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
        }
        List<Thread> alive = threads.stream().filter(Thread::isAlive).toList();
        alive.forEach(Thread::interrupt);
        if (client != null && !alive.isEmpty()) {
            client.abortAll(); // after the interrupts: a request waiting on its socket does not see one
        }
        for (Thread t : alive) {
            t.join(5_000);
        }
        heartbeats.shutdownNow();
        if (client != null) {
            try {
                client.close();
            } catch (IOException e) {
                log.debug("webhook client: {}", e.toString());
            }
        }
        if (!threads.isEmpty()) {
            log.info("webhook sender stopped");
        }
    }
}
