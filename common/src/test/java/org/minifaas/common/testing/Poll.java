package org.minifaas.common.testing;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.function.Predicate;

/** Polling with a deadline instead of sleeping: the synchronisation of the integration tests. */
public final class Poll {
    private Poll() {}

    /** Calls {@code probe} every 50 ms until {@code done} accepts its value; fails after {@code timeout}. */
    public static <T> T until(Duration timeout, Callable<T> probe, Predicate<T> done, String what) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        T last = null;
        while (System.nanoTime() < deadline) {
            last = probe.call();
            if (done.test(last)) {
                return last;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("timed out after " + timeout + " waiting for " + what + "; last value: " + last);
    }
}
