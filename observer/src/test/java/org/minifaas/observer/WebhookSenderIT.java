package org.minifaas.observer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpServer;
import io.nats.client.api.ConsumerInfo;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntUnaryOperator;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.minifaas.common.Json;
import org.minifaas.common.model.Task;
import org.minifaas.common.model.TaskRecord;
import org.minifaas.common.model.TaskRecord.Callback;
import org.minifaas.common.model.TaskRecord.DeliveryState;
import org.minifaas.common.model.TaskStatus;
import org.minifaas.common.nats.NatsLayer;
import org.minifaas.common.nats.UserTasks;
import org.minifaas.common.nats.WebhookQueue;
import org.minifaas.common.testing.NatsTestServer;
import org.minifaas.common.testing.Poll;
import org.minifaas.common.webhook.WebhookKeys;

/** Webhook deliveries against a real nats-server and a real HTTP receiver on loopback. */
class WebhookSenderIT {
    static final Duration WAIT = Duration.ofSeconds(60);
    static final String SECRET = "test-secret-\u00e9"; // not only ASCII: keyed with its UTF-8 bytes

    NatsTestServer server;
    NatsLayer nats;
    String user;

    /** Test settings: loopback allowed (the receiver is there), short delays, a short timeout. */
    static WebhookSender.Settings settings(String secret, List<Integer> retries) {
        return new WebhookSender.Settings(
                secret, retries.stream().map(Duration::ofSeconds).toList(), Duration.ofSeconds(5), true, 2);
    }

    @BeforeEach
    void start() throws Exception {
        server = NatsTestServer.start();
        nats = NatsLayer.connect(server.settings(), "webhook-test");
        user = "user-" + UUID.randomUUID() + "@example.com";
    }

    @AfterEach
    void stop() throws Exception {
        nats.close();
        server.close();
    }

    /** A webhook receiver: records every request, answers with the status {@code answer} gives request n (1-based). */
    static final class Receiver implements AutoCloseable {
        record Request(String method, String path, Headers headers, byte[] body, int answered) {
            String header(String name) {
                return headers.getFirst(name);
            }
        }

        final List<Request> requests = new CopyOnWriteArrayList<>(); // in the order answered
        final AtomicInteger received = new AtomicInteger();
        private final HttpServer http;
        private final ExecutorService threads = Executors.newCachedThreadPool();

        Receiver(IntUnaryOperator answer) throws IOException {
            http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
            http.createContext("/", exchange -> {
                byte[] body = exchange.getRequestBody().readAllBytes();
                Headers headers = new Headers();
                headers.putAll(exchange.getRequestHeaders());
                int status = answer.applyAsInt(received.incrementAndGet());
                requests.add(new Request(
                        exchange.getRequestMethod(), exchange.getRequestURI().getPath(), headers, body, status));
                if (status / 100 == 3) {
                    exchange.getResponseHeaders().add("Location", url("/elsewhere"));
                }
                exchange.sendResponseHeaders(status, -1);
                exchange.close();
            });
            http.setExecutor(threads); // an answer may block: the others go on
            http.start();
        }

        String url(String path) {
            return "http://127.0.0.1:" + http.getAddress().getPort() + path;
        }

        @Override
        public void close() {
            http.stop(0);
            threads.shutdownNow();
        }
    }

    /** A finished task with a callback, as the worker leaves it: its record, then its job on the queue. */
    UUID finishedTask(String callbackUrl) throws Exception {
        UUID id = UUID.randomUUID();
        UserTasks tasks = nats.userTasks(user);
        tasks.createPending(TaskRecord.pending(
                new Task(id, user, "https://example.com/f.git", List.of("a"), null, 0, callbackUrl, null)));
        tasks.update(id, r -> r.finished(TaskStatus.FINISHED, "c0ffee", 10L, 20L, 30L, 0, false, null));
        nats.webhooks().publish(new WebhookQueue.Job(id, user));
        return id;
    }

    Callback callback(UUID id) throws Exception {
        return nats.userTasks(user).record(id).orElseThrow().callback();
    }

    Callback until(UUID id, DeliveryState state) throws Exception {
        return Poll.until(WAIT, () -> callback(id), c -> c.state() == state, "callback " + state);
    }

    /** Nothing left in the queue: no message in the stream, none waiting, none unacknowledged. */
    boolean queueEmpty() throws Exception {
        ConsumerInfo consumer = nats.webhooks().consumer().getConsumerInfo();
        long stored = nats.connection()
                .jetStreamManagement()
                .getStreamInfo(WebhookQueue.STREAM)
                .getStreamState()
                .getMsgCount();
        return stored == 0 && consumer.getNumPending() == 0 && consumer.getNumAckPending() == 0;
    }

    void untilQueueEmpty() throws Exception {
        Poll.until(WAIT, this::queueEmpty, Boolean::booleanValue, "the webhook queue to be empty");
    }

    /** The receiver's own check, independent of {@link WebhookSignature}. */
    static String hmac(String secret, byte[] body) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        return "sha256=" + HexFormat.of().formatHex(mac.doFinal(body));
    }

    /** Signed with the owner's own key (derived from the server's secret), not with the server's secret itself. */
    void assertSigned(Receiver.Request request) throws Exception {
        assertEquals(hmac(WebhookKeys.forUser(SECRET, user), request.body()), request.header("X-MiniFaaS-Signature"));
        assertNotEquals(hmac(SECRET, request.body()), request.header("X-MiniFaaS-Signature"));
        long sent = Long.parseLong(request.header("X-MiniFaaS-Timestamp"));
        assertTrue(Math.abs(Instant.now().getEpochSecond() - sent) < 120, "timestamp " + sent);
    }

    @Test
    void aFinishedTasksRecordIsPostedOnceSigned() throws Exception {
        try (Receiver receiver = new Receiver(n -> 200);
                WebhookSender sender = new WebhookSender(nats, settings(SECRET, List.of(1, 1, 1, 1, 1)))) {
            sender.start();
            UUID id = finishedTask(receiver.url("/hook?from=minifaas"));
            Callback done = until(id, DeliveryState.DELIVERED);
            assertEquals(1, done.attempts());
            assertNotNull(done.deliveredAt());
            assertNull(done.lastError());
            untilQueueEmpty();

            assertEquals(1, receiver.requests.size());
            Receiver.Request request = receiver.requests.get(0);
            assertEquals("POST", request.method());
            assertEquals("/hook", request.path());
            assertSigned(request);
            assertEquals("application/json", request.header("Content-Type"));
            assertEquals(id + "-1", request.header("X-MiniFaaS-Delivery"));
            assertEquals("MiniFaaS-Webhook", request.header("User-Agent"));
            // the body is the record as it stood when sent
            TaskRecord sent = Json.fromBytes(request.body(), TaskRecord.class);
            assertEquals(id, sent.id());
            assertEquals(TaskStatus.FINISHED, sent.status());
            assertEquals("c0ffee", sent.commit());
            assertEquals(DeliveryState.PENDING, sent.callback().state());
            assertTrue(new String(request.body(), StandardCharsets.UTF_8).contains("\"code\":300"));
        }
    }

    @Test
    void failedAttemptsAreRetriedUntilTheReceiverAccepts() throws Exception {
        try (Receiver receiver = new Receiver(n -> n <= 2 ? 500 : 200);
                WebhookSender sender = new WebhookSender(nats, settings(SECRET, List.of(1, 1, 1, 1, 1)))) {
            sender.start();
            UUID id = finishedTask(receiver.url("/hook"));
            Callback retrying = until(id, DeliveryState.RETRYING);
            assertEquals("HTTP 500", retrying.lastError());
            assertTrue(retrying.attempts() >= 1 && retrying.attempts() <= 2, retrying.toString());

            Callback done = until(id, DeliveryState.DELIVERED);
            assertEquals(3, done.attempts());
            untilQueueEmpty();
            assertEquals(
                    List.of(500, 500, 200),
                    receiver.requests.stream().map(Receiver.Request::answered).toList());
            assertEquals(
                    List.of(id + "-1", id + "-2", id + "-3"),
                    receiver.requests.stream()
                            .map(r -> r.header("X-MiniFaaS-Delivery"))
                            .toList());
            for (Receiver.Request request : receiver.requests) {
                assertSigned(request);
            }
        }
    }

    @Test
    void aRestartedSenderStillDelivers() throws Exception {
        AtomicBoolean down = new AtomicBoolean(true);
        try (Receiver receiver = new Receiver(n -> down.get() ? 503 : 200)) {
            UUID id;
            WebhookSender.Settings slow = settings(SECRET, List.of(2, 2, 2, 2, 2));
            try (WebhookSender first = new WebhookSender(nats, slow)) {
                first.start();
                id = finishedTask(receiver.url("/hook"));
                until(id, DeliveryState.RETRYING);
            } // stopped mid-schedule: the job waits in the queue for its next attempt
            int before = receiver.requests.size();
            assertTrue(before >= 1 && before < 6, "attempts before the restart: " + before);
            down.set(false);

            try (WebhookSender second = new WebhookSender(nats, slow)) {
                second.start();
                Callback done = until(id, DeliveryState.DELIVERED);
                untilQueueEmpty();
                assertEquals(before + 1, done.attempts());
            }
            assertEquals(
                    1,
                    receiver.requests.stream().filter(r -> r.answered() == 200).count(),
                    "delivered exactly once");
            assertEquals(before + 1, receiver.requests.size());
        }
    }

    @Test
    void closingMidAttemptHandsTheJobBackAtOnce() throws Exception {
        CountDownLatch hang = new CountDownLatch(1);
        try (Receiver receiver = new Receiver(n -> {
            if (n == 1) {
                try {
                    hang.await(); // the first answer never comes while the first sender runs
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return 500;
            }
            return 200;
        })) {
            // a timeout far beyond the stop grace, so that close() has to interrupt the attempt
            WebhookSender.Settings patient = new WebhookSender.Settings(
                    SECRET, List.of(Duration.ofSeconds(1)), Duration.ofSeconds(120), true, 1);
            UUID id;
            try (WebhookSender first = new WebhookSender(nats, patient)) {
                first.start();
                id = finishedTask(receiver.url("/hook"));
                Poll.until(WAIT, receiver.received::get, n -> n == 1, "the first attempt to arrive");
            }
            assertEquals(DeliveryState.PENDING, callback(id).state(), "an interrupted attempt records nothing");
            long handedBack = System.nanoTime();
            try (WebhookSender second = new WebhookSender(nats, patient)) {
                second.start();
                Callback done = until(id, DeliveryState.DELIVERED);
                assertEquals(2, done.attempts());
                // well before the queue's 60 s ack wait: the job was handed back, not abandoned
                assertTrue(
                        System.nanoTime() - handedBack < Duration.ofSeconds(30).toNanos());
                untilQueueEmpty();
            } finally {
                hang.countDown();
            }
        }
    }

    @Test
    void theLastFailedRetryMarksTheCallbackFailedAndEndsTheJob() throws Exception {
        // 500 and redirects alternately: a redirect is a failure, never followed
        try (Receiver receiver = new Receiver(n -> n % 2 == 1 ? 500 : 302);
                WebhookSender sender = new WebhookSender(nats, settings(SECRET, List.of(1, 1, 1, 1, 1)))) {
            sender.start();
            UUID id = finishedTask(receiver.url("/hook"));
            Callback failed = until(id, DeliveryState.FAILED);
            assertEquals(6, failed.attempts());
            assertEquals("HTTP 302 (redirects are not followed)", failed.lastError());
            assertNull(failed.deliveredAt());
            untilQueueEmpty();
            assertEquals(6, receiver.requests.size());
            assertTrue(receiver.requests.stream().allMatch(r -> r.path().equals("/hook")), "a redirect was followed");
        }
    }

    @Test
    void aRefusedConnectionIsRetriedThenFails() throws Exception {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = socket.getLocalPort();
        }
        try (WebhookSender sender = new WebhookSender(nats, settings(SECRET, List.of(1)))) {
            sender.start();
            UUID id = finishedTask("http://127.0.0.1:" + closedPort + "/hook");
            assertEquals("connection refused", until(id, DeliveryState.RETRYING).lastError());
            Callback failed = until(id, DeliveryState.FAILED);
            assertEquals(2, failed.attempts());
            assertEquals("connection refused", failed.lastError());
            untilQueueEmpty();
        }
    }

    @Test
    void loopbackCallbacksAreRefusedUnlessPrivateAddressesAreAllowed() throws Exception {
        WebhookSender.Settings strict =
                new WebhookSender.Settings(SECRET, List.of(Duration.ofSeconds(1)), Duration.ofSeconds(5), false, 2);
        try (Receiver receiver = new Receiver(n -> 200);
                WebhookSender sender = new WebhookSender(nats, strict)) {
            sender.start();
            UUID id = finishedTask(receiver.url("/hook"));
            Callback failed = until(id, DeliveryState.FAILED);
            assertEquals(1, failed.attempts(), "a refusal is not retried");
            assertTrue(
                    failed.lastError().contains("loopback")
                            && failed.lastError().contains("127.0.0.1"),
                    failed.lastError());
            assertTrue(failed.lastError().startsWith("callbacks"), failed.lastError());
            UUID named = finishedTask(receiver.url("/hook").replace("127.0.0.1", "localhost"));
            assertTrue(until(named, DeliveryState.FAILED).lastError().contains("localhost"));
            untilQueueEmpty();
            assertEquals(0, receiver.requests.size());
        }
    }

    @Test
    void withoutASecretNothingIsSentAndTheRecordSaysWhy() throws Exception {
        try (Receiver receiver = new Receiver(n -> 200);
                WebhookSender sender = new WebhookSender(nats, settings("", List.of(1, 1, 1, 1, 1)))) {
            sender.start();
            UUID id = finishedTask(receiver.url("/hook"));
            Callback failed = until(id, DeliveryState.FAILED);
            assertEquals(WebhookSender.NOT_CONFIGURED, failed.lastError());
            assertEquals(1, failed.attempts());
            untilQueueEmpty();
            assertEquals(0, receiver.requests.size());
        }
    }

    @Test
    void aJobWhoseRecordIsGoneIsDropped() throws Exception {
        try (Receiver receiver = new Receiver(n -> 200);
                WebhookSender sender = new WebhookSender(nats, settings(SECRET, List.of(1)))) {
            sender.start();
            String nobody = "nobody-" + UUID.randomUUID();
            nats.webhooks().publish(new WebhookQueue.Job(UUID.randomUUID(), nobody));
            UUID id = finishedTask(receiver.url("/hook")); // the bucket exists, this other task does not
            nats.webhooks().publish(new WebhookQueue.Job(UUID.randomUUID(), user));
            until(id, DeliveryState.DELIVERED);
            untilQueueEmpty();
            assertEquals(1, receiver.requests.size());
            assertTrue(nats.existingUserTasks(nobody).isEmpty(), "a bucket was made for a user without one");
        }
    }
}
