package org.minifaas.frontend;

import java.util.concurrent.Semaphore;

/**
 * A cap on requests held open at once (log streams, waiting reads): each holds a server thread, so beyond the cap
 * a request is refused at once instead of queueing behind the others.
 */
final class Limiter {
    private final Semaphore slots;
    private final String what;

    Limiter(int slots, String what) {
        this.slots = new Semaphore(slots);
        this.what = what;
    }

    /** One slot, released by closing it; {@link DomainException.Busy} when all are taken. */
    Slot acquire() {
        if (!slots.tryAcquire()) {
            throw new DomainException.Busy("Too many " + what + " open at once; try again shortly.");
        }
        return slots::release;
    }

    /** A held slot. */
    interface Slot extends AutoCloseable {
        @Override
        void close();
    }
}
