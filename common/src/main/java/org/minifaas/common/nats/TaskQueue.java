package org.minifaas.common.nats;

import io.nats.client.JetStreamApiException;
import io.nats.client.Message;
import io.nats.client.PublishOptions;
import io.nats.client.api.ConsumerInfo;
import java.io.IOException;
import java.time.Duration;
import org.minifaas.common.Json;
import org.minifaas.common.model.Task;

/**
 * The task queue: a work-queue stream on subject {@code task_queue} with one durable pull consumer
 * shared by all workers. A task stays in the stream until a worker acknowledges it, so tasks
 * published while no worker runs wait for the first one, and a task whose worker died is
 * redelivered after the ack wait. Entries older than the retention are dropped by the stream:
 * their status and quota slot are gone by then anyway.
 */
public final class TaskQueue extends WorkQueue {
    public static final String STREAM = "TASKS";
    public static final String SUBJECT = "task_queue";
    public static final String CONSUMER = "workers";

    TaskQueue(NatsLayer layer) {
        super(layer, STREAM, SUBJECT, CONSUMER);
    }

    @Override
    Duration maxAge() {
        return layer.settings().retention();
    }

    @Override
    Duration ackWait() {
        return layer.settings().ackWait();
    }

    /** Enqueues a task durably; the task id doubles as the de-duplication id. */
    public void publish(Task task) throws IOException, JetStreamApiException {
        ensure();
        layer.js()
                .publish(
                        SUBJECT,
                        Json.toBytes(task),
                        PublishOptions.builder()
                                .messageId(task.taskId().toString())
                                .expectedStream(STREAM)
                                .build());
    }

    public static Task decode(Message message) {
        return Json.fromBytes(message.getData(), Task.class);
    }

    /**
     * The queue's counters, read from JetStream's own state (exact, no counters of ours to race).
     *
     * @param enqueued  tasks ever enqueued (the stream's last sequence)
     * @param waiting   tasks not yet taken by any worker
     * @param inFlight  tasks taken and not yet acknowledged
     */
    public record Counters(long enqueued, long waiting, long inFlight) {
        /** Tasks taken by workers so far. */
        public long taken() {
            return enqueued - waiting;
        }
    }

    public Counters counters() throws IOException, JetStreamApiException {
        ensure();
        ConsumerInfo info = layer.jsm().getConsumerInfo(STREAM, CONSUMER);
        long enqueued = layer.jsm().getStreamInfo(STREAM).getStreamState().getLastSequence();
        return new Counters(enqueued, info.getNumPending(), info.getNumAckPending());
    }
}
