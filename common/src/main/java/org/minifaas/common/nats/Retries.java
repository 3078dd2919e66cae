package org.minifaas.common.nats;

import io.nats.client.JetStreamApiException;
import java.io.IOException;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bounded retries of a JetStream call that failed without an answer (a timeout, no responders): what a leader change
 * in a cluster, or a client moving to another server, looks like for a few seconds. Only for calls that are safe to
 * repeat (a publish with a de-duplication id, a create that accepts its own earlier success). An answer of the server
 * (a JetStreamApiException) is retried only when it says the cluster cannot act yet: "no suitable peers for
 * placement" (a replicated stream while too few servers are up, e.g. a cluster still forming) and "JetStream system
 * temporarily unavailable"; any other answer is final.
 */
public final class Retries {
    private static final Logger log = LoggerFactory.getLogger(Retries.class);
    /** Longer than a JetStream leader election under load, short enough to hold an HTTP request. */
    public static final Duration LEADER_CHANGE = Duration.ofSeconds(15);
    /**
     * How long a stream's creation waits for a cluster that cannot place it yet: a cluster still forming has its
     * servers within seconds; a lasting refusal (fewer servers up than NATS_REPLICAS, placement tags nobody has)
     * fails after this, not after a request's whole patience.
     */
    public static final Duration CLUSTER_FORMING = Duration.ofSeconds(5);
    /** The deadline of the repeatable call this thread is in, if any. */
    private static final ThreadLocal<Long> DEADLINE = new ThreadLocal<>();

    private Retries() {}

    /** A JetStream call. */
    @FunctionalInterface
    public interface Call<T, E extends Exception> {
        T run() throws IOException, JetStreamApiException, E;
    }

    /**
     * Runs {@code call}, again after an IOException or a {@linkplain #clusterNotReady cluster-not-ready} JetStream
     * answer, with back-off, until {@code budget} is spent. Inside another repeatable call on the same thread (a
     * stream created while a create request's step is repeated) the inner one ends by the outer one's deadline too:
     * the outer budget bounds the whole step.
     */
    public static <T, E extends Exception> T repeatable(String what, Duration budget, Call<T, E> call)
            throws IOException, JetStreamApiException, InterruptedException, E {
        Long outer = DEADLINE.get();
        long own = System.nanoTime() + budget.toNanos();
        long deadline = outer != null && outer - own < 0 ? outer : own;
        DEADLINE.set(deadline);
        try {
            long backoffMs = 50;
            while (true) {
                try {
                    return call.run();
                } catch (IOException | JetStreamApiException e) {
                    if (e instanceof JetStreamApiException api && !clusterNotReady(api)
                            || System.nanoTime() + backoffMs * 1_000_000 - deadline > 0) {
                        throw e;
                    }
                    log.debug("{} failed ({}); again in {} ms", what, e.toString(), backoffMs);
                    Thread.sleep(backoffMs);
                    backoffMs = Math.min(backoffMs * 2, 1_000);
                }
            }
        } finally {
            if (outer == null) {
                DEADLINE.remove();
            } else {
                DEADLINE.set(outer);
            }
        }
    }

    /** Whether the server's answer says the cluster cannot act yet (and may in a moment). */
    static boolean clusterNotReady(JetStreamApiException e) {
        return ApiErrors.is(e, ApiErrors.NO_SUITABLE_PEERS) || ApiErrors.is(e, ApiErrors.TEMPORARILY_UNAVAILABLE);
    }
}
