package org.minifaas.common.nats;

/** The user already has the maximum number of active tasks. */
public final class QuotaExceededException extends Exception {
    public QuotaExceededException(int limit) {
        super("Too many active tasks: the limit is " + limit + " per user; wait until older tasks expire.");
    }
}
