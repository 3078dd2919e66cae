package org.minifaas.common.nats;

import io.nats.client.JetStreamApiException;
import io.nats.client.Message;
import io.nats.client.ObjectStore;
import io.nats.client.api.ObjectInfo;
import io.nats.client.api.ObjectStoreConfiguration;
import io.nats.client.api.StorageType;
import io.nats.client.impl.Headers;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.minifaas.common.model.InjectionRequest;

/**
 * File injection: a work-queue stream {@code INJECTIONS} on subject {@code injector_queue} carries
 * each file (raw bytes, its name in a header) from the frontend to the injector, which stores it in
 * the {@code injector_bucket} object store.
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

    /** Stores a file in the injector bucket, creating the bucket when missing. */
    public void store(InjectionRequest request) throws IOException, JetStreamApiException {
        try {
            bucket().put(request.fileName(), request.content());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JRE", e);
        }
    }

    /** A stored file, or empty. */
    public Optional<byte[]> read(String name) throws IOException, JetStreamApiException, InterruptedException {
        ObjectStore store = bucket();
        ObjectInfo info = store.getInfo(name);
        if (info == null || info.isDeleted()) {
            return Optional.empty();
        }
        if (info.getSize() == 0) {
            return Optional.of(new byte[0]);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            store.get(name, out);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JRE", e);
        }
        return Optional.of(out.toByteArray());
    }

    public List<String> names() throws IOException, JetStreamApiException, InterruptedException {
        return bucket().getList().stream().filter(i -> !i.isDeleted()).map(ObjectInfo::getObjectName).toList();
    }

    private ObjectStore bucket() throws IOException, JetStreamApiException {
        if (layer.streamInfo(BucketNames.objectStream(BucketNames.INJECTOR_BUCKET)).isEmpty()) {
            try {
                layer.connection().objectStoreManagement().create(
                        ObjectStoreConfiguration.builder(BucketNames.INJECTOR_BUCKET)
                                .storageType(StorageType.File).replicas(layer.settings().replicas()).build());
            } catch (JetStreamApiException e) {
                if (!ApiErrors.is(e, ApiErrors.STREAM_NAME_IN_USE)) {
                    throw e;
                }
            }
        }
        return layer.connection().objectStore(BucketNames.INJECTOR_BUCKET);
    }
}
