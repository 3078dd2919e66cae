package org.minifaas.common.nats;

import io.nats.client.JetStreamApiException;
import io.nats.client.ObjectStore;
import io.nats.client.api.ObjectStoreConfiguration;
import io.nats.client.api.StorageType;
import io.nats.client.support.NatsObjectStoreUtil;
import java.io.IOException;
import org.minifaas.common.model.InjectionRequest;

/** The {@code injector_bucket} object store, where the injector stores the files the queue brings. */
public final class InjectorBucket {
    private final NatsLayer layer;

    InjectorBucket(NatsLayer layer) {
        this.layer = layer;
    }

    /** Stores a file, creating the bucket when missing. */
    public void store(InjectionRequest request) throws IOException, JetStreamApiException {
        Sha256.put(store(), request.fileName(), request.content());
    }

    private ObjectStore store() throws IOException, JetStreamApiException {
        if (layer.streams()
                .streamInfo(NatsObjectStoreUtil.toStreamName(BucketNames.INJECTOR_BUCKET))
                .isEmpty()) {
            try {
                layer.connection()
                        .objectStoreManagement()
                        .create(ObjectStoreConfiguration.builder(BucketNames.INJECTOR_BUCKET)
                                .storageType(StorageType.File)
                                .replicas(layer.settings().replicas())
                                .build());
            } catch (JetStreamApiException e) {
                if (!ApiErrors.is(e, ApiErrors.STREAM_NAME_IN_USE)) {
                    throw e;
                }
            }
        }
        return layer.connection().objectStore(BucketNames.INJECTOR_BUCKET);
    }
}
