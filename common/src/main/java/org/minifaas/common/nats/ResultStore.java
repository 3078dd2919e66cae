package org.minifaas.common.nats;

import io.nats.client.JetStreamApiException;
import io.nats.client.ObjectStore;
import io.nats.client.api.ObjectInfo;
import io.nats.client.api.ObjectStoreConfiguration;
import io.nats.client.api.StorageType;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.security.NoSuchAlgorithmException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * The result files of one task, in an object store of its own that expires with the retention and
 * is capped at MAX_RESULT_BYTES.
 */
public final class ResultStore {
    private final NatsLayer layer;
    private final UUID taskId;
    private final String bucket;

    ResultStore(NatsLayer layer, UUID taskId) {
        this.layer = layer;
        this.taskId = taskId;
        this.bucket = BucketNames.forResults(taskId);
    }

    public String bucket() {
        return bucket;
    }

    /**
     * Stores the files, replacing whatever an earlier attempt of the same task left.
     *
     * @throws ResultTooLargeException when the files exceed MAX_RESULT_BYTES
     */
    public void write(Map<String, byte[]> files) throws IOException, JetStreamApiException, ResultTooLargeException {
        layer.deleteStream(BucketNames.objectStream(bucket));
        ObjectStoreConfiguration config = ObjectStoreConfiguration.builder(bucket)
                .ttl(layer.settings().retention())
                .maxBucketSize(layer.settings().maxResultBytes())
                .storageType(StorageType.File)
                .replicas(layer.settings().replicas())
                .description("results of task " + taskId)
                .build();
        layer.connection().objectStoreManagement().create(config);
        ObjectStore store = layer.connection().objectStore(bucket);
        try {
            for (Map.Entry<String, byte[]> file : files.entrySet()) {
                store.put(file.getKey(), file.getValue());
            }
        } catch (JetStreamApiException e) {
            if (ApiErrors.isLimit(e)) {
                throw new ResultTooLargeException(layer.settings().maxResultBytes());
            }
            throw e;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JRE", e);
        }
    }

    /** Whether results were stored (and have not expired): the store exists and holds at least one file. */
    public boolean exists() throws IOException, JetStreamApiException {
        return layer.streamInfo(BucketNames.objectStream(bucket))
                .map(info -> info.getStreamState().getMsgCount() > 0).orElse(false);
    }

    /** The stored files by name, or empty when nothing was stored (or it expired). */
    public Optional<Map<String, byte[]>> read() throws IOException, JetStreamApiException, InterruptedException {
        if (layer.streamInfo(BucketNames.objectStream(bucket)).isEmpty()) {
            return Optional.empty();
        }
        ObjectStore store = layer.connection().objectStore(bucket);
        Map<String, byte[]> files = new LinkedHashMap<>();
        try {
            for (ObjectInfo info : store.getList()) {
                if (info.isDeleted()) {
                    continue;
                }
                if (info.getSize() == 0) {
                    // an empty object has no chunks: reading it would only wait for the client's timeout
                    files.put(info.getObjectName(), new byte[0]);
                    continue;
                }
                ByteArrayOutputStream out = new ByteArrayOutputStream((int) info.getSize());
                try {
                    store.get(info.getObjectName(), out);
                } catch (IllegalArgumentException gone) {
                    // listed, then expired with the retention before it could be read: the results are gone
                    return Optional.empty();
                }
                files.put(info.getObjectName(), out.toByteArray());
            }
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JRE", e);
        }
        return Optional.of(files);
    }

    /** Removes the store and its stream; true when it existed. */
    public boolean delete() throws IOException, JetStreamApiException {
        return layer.deleteStream(BucketNames.objectStream(bucket));
    }

    /** Results larger than the configured cap. */
    public static final class ResultTooLargeException extends Exception {
        public ResultTooLargeException(long limit) {
            super("results exceed MAX_RESULT_BYTES=" + limit);
        }
    }
}
