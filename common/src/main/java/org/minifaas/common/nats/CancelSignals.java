package org.minifaas.common.nats;

import io.nats.client.Dispatcher;
import java.util.UUID;
import java.util.function.Consumer;

/**
 * Cancellation of running tasks: a plain NATS message on {@code minifaas.cancel.<taskId>} reaches every worker at
 * once; the one running the task kills it. The record (CANCELLED in the owner's bucket) is the durable truth: a
 * worker that missed the signal finds it there when it records the end, and drops its outcome.
 */
public final class CancelSignals {
    public static final String SUBJECT_PREFIX = "minifaas.cancel.";

    private final NatsLayer layer;

    CancelSignals(NatsLayer layer) {
        this.layer = layer;
    }

    /** Tells the workers to stop the task now (fire and forget; the record already says CANCELLED). */
    public void send(UUID taskId) {
        layer.connection().publish(SUBJECT_PREFIX + taskId, new byte[0]);
    }

    /** Hands every signal's task id to {@code onCancel}, on a thread of its own; close the result to stop. */
    public AutoCloseable listen(Consumer<UUID> onCancel) {
        Dispatcher dispatcher = layer.connection().createDispatcher(message -> {
            String id = message.getSubject().substring(SUBJECT_PREFIX.length());
            try {
                onCancel.accept(UUID.fromString(id));
            } catch (IllegalArgumentException e) {
                // not a task id: ignore
            }
        });
        dispatcher.subscribe(SUBJECT_PREFIX + "*");
        return () -> layer.connection().closeDispatcher(dispatcher);
    }
}
