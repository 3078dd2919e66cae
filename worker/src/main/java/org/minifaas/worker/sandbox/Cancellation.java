package org.minifaas.worker.sandbox;

import java.util.concurrent.CompletableFuture;

/**
 * A task cancelled by its owner, passed down to every command the task runs: {@link #cancel} wakes the runner of
 * the command running now, which kills it as its time limit would, and the task runs no further step. Not a thread
 * interrupt: an interrupt means the worker is shutting down and hands the task back.
 */
public final class Cancellation {
    private final CompletableFuture<Void> signal = new CompletableFuture<>();

    public void cancel() {
        signal.complete(null);
    }

    /**
     * The cancellation of one step of this task: cancelled with the task, or on its own (a limit the step reached),
     * which stops that step without cancelling the task.
     */
    public Cancellation step() {
        Cancellation step = new Cancellation();
        signal.thenRun(step::cancel);
        return step;
    }

    public boolean isCancelled() {
        return signal.isDone();
    }

    /** Completes on {@link #cancel}: a runner waits on it together with its process. */
    CompletableFuture<Void> signal() {
        return signal;
    }
}
