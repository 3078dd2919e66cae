package org.minifaas.common.nats;

import io.nats.client.JetStreamApiException;
import io.nats.client.ObjectStore;
import io.nats.client.api.ObjectStoreConfiguration;
import io.nats.client.api.StorageType;
import java.io.IOException;

/**
 * The object store every task's results share ({@link BucketNames#RESULTS_BUCKET}): made on first use with the
 * retention as its TTL and NATS_REPLICAS copies, and brought to them when they changed.
 */
final class ResultsBucket {
    private final NatsLayer layer;
    private volatile ObjectStore store;

    ResultsBucket(NatsLayer layer) {
        this.layer = layer;
    }

    ObjectStore store() throws IOException, JetStreamApiException {
        ObjectStore s = store;
        if (s != null) {
            return s;
        }
        synchronized (this) {
            if (store == null) {
                ObjectStoreConfiguration config = ObjectStoreConfiguration.builder(BucketNames.RESULTS_BUCKET)
                        .ttl(layer.settings().retention())
                        .storageType(StorageType.File)
                        .replicas(layer.settings().replicas())
                        .description("every task's result files, one object per task")
                        .build();
                layer.streams().ensureStream(config.getBackingConfig());
                store = layer.connection().objectStore(BucketNames.RESULTS_BUCKET);
            }
            return store;
        }
    }
}
