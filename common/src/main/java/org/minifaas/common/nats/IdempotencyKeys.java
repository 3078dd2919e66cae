package org.minifaas.common.nats;

import io.nats.client.JetStreamApiException;
import io.nats.client.KeyValue;
import io.nats.client.api.KeyValueConfiguration;
import io.nats.client.api.KeyValueEntry;
import io.nats.client.api.KeyValueOperation;
import io.nats.client.api.StorageType;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Optional;
import java.util.UUID;

/**
 * Idempotency-Key of task creation: a bucket mapping (user, key) to the task the key first created, for the
 * retention. The claim is one atomic create of the key, so among any number of concurrent retries exactly one
 * creates a task; the others get its id.
 */
public final class IdempotencyKeys {
    public static final String BUCKET = "idempotency";

    private final NatsLayer layer;
    private volatile KeyValue kv;

    IdempotencyKeys(NatsLayer layer) {
        this.layer = layer;
    }

    private KeyValue kv() throws IOException, JetStreamApiException {
        if (kv == null) {
            kv = layer.streams()
                    .ensureKeyValue(KeyValueConfiguration.builder()
                            .name(BUCKET)
                            .maxHistoryPerKey(1)
                            .ttl(layer.settings().retention())
                            .storageType(StorageType.File)
                            .build());
        }
        return kv;
    }

    /** Claims {@code key} of {@code userId} for {@code taskId}; empty when claimed now, else the first task's id. */
    public Optional<UUID> claim(String userId, String key, UUID taskId) throws IOException, JetStreamApiException {
        String name = name(userId, key);
        try {
            kv().create(name, taskId.toString().getBytes(StandardCharsets.UTF_8));
            return Optional.empty();
        } catch (JetStreamApiException e) {
            if (!ApiErrors.is(e, ApiErrors.WRONG_LAST_SEQUENCE)) {
                throw e;
            }
        }
        KeyValueEntry entry = kv().get(name);
        if (entry == null || entry.getOperation() != KeyValueOperation.PUT || entry.getValue() == null) {
            // released between our create and this read: try once more
            return claim(userId, key, taskId);
        }
        return Optional.of(UUID.fromString(new String(entry.getValue(), StandardCharsets.UTF_8)));
    }

    /** Frees a claim whose task could not be created (no marker left: the key can be used again). */
    public void release(String userId, String key) throws IOException, JetStreamApiException {
        kv();
        layer.streams().purgeKey(BUCKET, name(userId, key));
    }

    /** A key name from the user and their key: both hashed (any bytes allowed, no user can reach another's). */
    static String name(String userId, String key) {
        MessageDigest sha = Sha256.digest();
        sha.update(userId.getBytes(StandardCharsets.UTF_8));
        sha.update((byte) 0);
        sha.update(key.getBytes(StandardCharsets.UTF_8));
        return HexFormat.of().formatHex(sha.digest(), 0, 24);
    }
}
