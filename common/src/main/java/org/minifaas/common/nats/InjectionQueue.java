package org.minifaas.common.nats;

import io.nats.client.JetStreamApiException;
import io.nats.client.Message;
import io.nats.client.impl.Headers;
import java.io.IOException;
import java.time.Duration;
import java.util.Optional;
import org.minifaas.common.model.InjectionRequest;

/**
 * File injection: a work-queue stream {@code INJECTIONS} on subject {@code injector_queue} carries
 * each file (raw bytes, its name in a header) from the frontend to the injector, which stores it in
 * the {@code injector_bucket} object store ({@link InjectorBucket}).
 */
public final class InjectionQueue extends WorkQueue {
    public static final String STREAM = "INJECTIONS";
    public static final String SUBJECT = "injector_queue";
    public static final String CONSUMER = "injector";
    public static final String NAME_HEADER = "Minifaas-File-Name";

    InjectionQueue(NatsLayer layer) {
        super(layer, STREAM, SUBJECT, CONSUMER);
    }

    @Override
    Duration maxAge() {
        return Duration.ZERO;
    }

    @Override
    Duration ackWait() {
        return Duration.ofSeconds(30);
    }

    /** Queues a file durably. */
    public void publish(InjectionRequest request) throws IOException, JetStreamApiException {
        ensure();
        Headers headers = new Headers().put(NAME_HEADER, request.fileName());
        layer.js().publish(SUBJECT, headers, request.content());
    }

    /** The request in a message, or empty when the message is malformed. */
    public static Optional<InjectionRequest> decode(Message message) {
        Headers headers = message.getHeaders();
        String name = headers == null ? null : headers.getFirst(NAME_HEADER);
        if (name == null || name.isBlank() || message.getData() == null) {
            return Optional.empty();
        }
        return Optional.of(new InjectionRequest(name, message.getData()));
    }
}
