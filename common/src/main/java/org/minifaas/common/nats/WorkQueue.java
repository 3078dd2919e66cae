package org.minifaas.common.nats;

import io.nats.client.ConsumerContext;
import io.nats.client.JetStreamApiException;
import io.nats.client.Message;
import java.io.IOException;
import java.time.Duration;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A durable work queue: a work-queue stream on one subject and the one durable pull consumer all its
 * readers share. A message stays in the stream until a reader acknowledges it; a reader that dies
 * leaves it to be redelivered after the ack wait.
 */
abstract class WorkQueue {
    private static final Logger log = LoggerFactory.getLogger(WorkQueue.class);

    /** Handles one message; the handler acknowledges it (or not) itself. */
    @FunctionalInterface
    public interface Handler {
        void handle(Message message) throws InterruptedException;
    }

    protected final NatsLayer layer;
    private final String stream;
    private final String subject;
    private final String consumer;
    private volatile boolean ensured;

    WorkQueue(NatsLayer layer, String stream, String subject, String consumer) {
        this.layer = layer;
        this.stream = stream;
        this.subject = subject;
        this.consumer = consumer;
    }

    /** How long a message is kept when nobody takes it (zero: until taken). */
    abstract Duration maxAge();

    /** Silence after which a taken message is redelivered. */
    abstract Duration ackWait();

    /** Messages out unacknowledged at once before the server hands out no more (JetStream's default). */
    long maxAckPending() {
        return Streams.DEFAULT_MAX_ACK_PENDING;
    }

    /** Creates the stream and the shared consumer when missing (idempotent). */
    public void ensure() throws IOException, JetStreamApiException {
        if (!ensured) {
            layer.streams().ensureWorkQueue(stream, subject, consumer, maxAge(), ackWait(), maxAckPending());
            ensured = true;
        }
    }

    /** The shared durable consumer. */
    public ConsumerContext consumer() throws IOException, JetStreamApiException {
        ensure();
        return layer.js().getConsumerContext(stream, consumer);
    }

    /**
     * Takes messages one at a time and hands each to {@code handler} while {@code running} holds; when
     * NATS is unavailable, backs off and tries again. Returns when stopped or interrupted.
     */
    public void take(BooleanSupplier running, Handler handler) {
        ConsumerContext context = null;
        while (running.getAsBoolean()) {
            try {
                if (!layer.isConnected()) {
                    // nothing can be taken until NATS is back (a pull made now fails at once: no busy loop)
                    Thread.sleep(250);
                    continue;
                }
                if (context == null) {
                    context = consumer();
                }
                long start = System.nanoTime();
                Message message = context.next(Duration.ofSeconds(1));
                if (message != null) {
                    handler.handle(message);
                } else if (System.nanoTime() - start < 200_000_000L) {
                    Thread.sleep(200); // an empty answer long before the wait: the server refused the pull
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (Exception e) {
                log.warn("taking from {} failed (retrying): {}", stream, e.toString());
                context = null;
                try {
                    Thread.sleep(1_000);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }
}
