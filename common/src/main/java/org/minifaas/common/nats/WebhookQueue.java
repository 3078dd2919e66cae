package org.minifaas.common.nats;

import io.nats.client.JetStreamApiException;
import io.nats.client.Message;
import io.nats.client.PublishOptions;
import java.io.IOException;
import java.time.Duration;
import java.util.UUID;
import org.minifaas.common.Json;

/**
 * Webhook deliveries waiting to be sent: a work queue whose messages name a finished task with a callback URL.
 * The sender reads the task's record when it sends (the body is the record as stored then), acknowledges after a
 * 2xx or after the last retry, and otherwise asks for a redelivery later: a sender that restarts loses nothing.
 */
public final class WebhookQueue extends WorkQueue {
    public static final String STREAM = "WEBHOOKS";
    public static final String SUBJECT = "webhooks";
    public static final String CONSUMER = "webhook-senders";

    /** One delivery to make: the task whose record is sent, and its owner (whose bucket holds the record). */
    public record Job(UUID taskId, String userId) {}

    WebhookQueue(NatsLayer layer) {
        super(layer, STREAM, SUBJECT, CONSUMER);
    }

    @Override
    Duration maxAge() {
        return Duration.ZERO; // until delivered or given up
    }

    @Override
    Duration ackWait() {
        return Duration.ofSeconds(60);
    }

    /**
     * A job waiting out its retry delay stays unacknowledged: a flood of failing callbacks must not hold back the
     * deliveries of everyone else, as JetStream's default of 1000 would (and jnats cannot send "no limit", -1).
     */
    static final long MAX_ACK_PENDING = 1_000_000;

    @Override
    long maxAckPending() {
        return MAX_ACK_PENDING;
    }

    /** Queues the delivery of a task's record; the task id de-duplicates repeats (a worker finishing twice). */
    public void publish(Job job) throws IOException, JetStreamApiException {
        ensure();
        layer.js()
                .publish(
                        SUBJECT,
                        Json.toBytes(job),
                        PublishOptions.builder()
                                .messageId("webhook-" + job.taskId())
                                .expectedStream(STREAM)
                                .build());
    }

    public static Job decode(Message message) {
        return Json.fromBytes(message.getData(), Job.class);
    }
}
