package org.minifaas.common.testing;

import io.nats.client.JetStreamApiException;
import io.nats.client.ObjectStore;
import io.nats.client.api.ObjectInfo;
import io.nats.client.api.StreamInfo;
import io.nats.client.support.NatsKeyValueUtil;
import io.nats.client.support.NatsObjectStoreUtil;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.List;
import java.util.Optional;
import org.minifaas.common.nats.BucketNames;
import org.minifaas.common.nats.NatsLayer;
import org.minifaas.common.nats.TaskQueue;

/** What the tests read of NATS and the services never need: queue state, stream counts, the injector's files. */
public final class NatsInspect {
    private NatsInspect() {}

    /** Tasks enqueued but not yet acknowledged (waiting plus in flight). */
    public static long backlog(NatsLayer nats) throws IOException, JetStreamApiException {
        TaskQueue.Counters c = nats.taskQueue().counters();
        return c.waiting() + c.inFlight();
    }

    /** The task queue stream's state: messages held and total ever enqueued. */
    public static StreamInfo taskStream(NatsLayer nats) throws IOException, JetStreamApiException {
        nats.taskQueue().ensure();
        return nats.connection().jetStreamManagement().getStreamInfo(TaskQueue.STREAM);
    }

    /** Number of streams of per-task results and per-user statuses, for leak checks. */
    public static long countTaskStreams(NatsLayer nats) throws IOException, JetStreamApiException {
        String results = NatsObjectStoreUtil.toStreamName(BucketNames.RESULT_PREFIX);
        String users = NatsKeyValueUtil.toStreamName(BucketNames.USER_PREFIX);
        return nats.connection().jetStreamManagement().getStreamNames().stream()
                .filter(n -> n.startsWith(results) || n.startsWith(users))
                .count();
    }

    /** A file the injector stored, or empty. */
    public static Optional<byte[]> injectedFile(NatsLayer nats, String name) throws Exception {
        ObjectStore store = nats.connection().objectStore(BucketNames.INJECTOR_BUCKET);
        ObjectInfo info = store.getInfo(name);
        if (info == null || info.isDeleted()) {
            return Optional.empty();
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        if (info.getSize() > 0) {
            store.get(name, out);
        }
        return Optional.of(out.toByteArray());
    }

    /** The names of the files the injector stored. */
    public static List<String> injectedNames(NatsLayer nats) throws Exception {
        return nats.connection().objectStore(BucketNames.INJECTOR_BUCKET).getList().stream()
                .filter(i -> !i.isDeleted())
                .map(ObjectInfo::getObjectName)
                .toList();
    }
}
