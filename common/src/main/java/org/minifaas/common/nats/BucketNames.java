package org.minifaas.common.nats;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.UUID;

/**
 * Names of the JetStream buckets. User ids can be anything the identity provider sends (emails,
 * long numeric ids, unicode), while bucket names allow only {@code [A-Za-z0-9_-]}: a user's bucket
 * is named after a hash of the id under a prefix that no system bucket uses, so no user id can
 * collide with another user's bucket or with a system bucket.
 */
public final class BucketNames {
    /** Prefix reserved for per-user task buckets. */
    public static final String USER_PREFIX = "tasks-";
    /** Prefix of the per-task result object stores of the layout before {@link #RESULTS_BUCKET} (still read). */
    public static final String RESULT_PREFIX = "results-";
    /** The object store of every task's results, one object per task. */
    public static final String RESULTS_BUCKET = "results";

    public static final String OBSERVER_BUCKET = "observer";
    public static final String WORKERS_BUCKET = "workers";
    public static final String INJECTOR_BUCKET = "injector_bucket";

    private BucketNames() {}

    public static String forUser(String userId) {
        byte[] digest = Sha256.digest().digest(userId.getBytes(StandardCharsets.UTF_8));
        // 160 bits of the hash: collisions are out of reach, the name stays short.
        return USER_PREFIX + HexFormat.of().formatHex(digest, 0, 20);
    }

    public static String forResults(UUID taskId) {
        return RESULT_PREFIX + taskId;
    }
}
