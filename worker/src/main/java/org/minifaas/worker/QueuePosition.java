package org.minifaas.worker;

import io.nats.client.Message;
import io.nats.client.impl.NatsJetStreamMetaData;

/**
 * Where a task stood in the task queue's stream when this worker got it: the task's own stream sequence, and a
 * sequence at or below which every task was stored before this delivery. The stream numbers messages in the order
 * it stores them, and a delivery says how many tasks stored after the delivered ones still wait ({@code pending}):
 * they are as many distinct sequences above this one, so the last of them, already stored, is at least
 * {@code sequence + pending}. No clock takes part.
 */
record QueuePosition(long sequence, long storedThrough) {
    static QueuePosition of(Message message) {
        NatsJetStreamMetaData meta = message.metaData();
        long pending = Math.max(0, meta.pendingCount());
        return new QueuePosition(meta.streamSequence(), meta.streamSequence() + pending);
    }
}
