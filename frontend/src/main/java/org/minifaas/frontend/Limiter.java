package org.minifaas.frontend;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.Semaphore;

/**
 * A cap on requests held open at once (log streams, waiting reads): each holds a server thread, so beyond the cap
 * a request is refused at once instead of queueing behind the others. Besides the cap for everyone, each user has a
 * cap of their own, so that one user cannot hold all the slots and deny everyone else.
 */
final class Limiter {
    private final Semaphore slots;
    private final int perUser;
    private final String what;
    /** Slots held by each user who holds any (an entry is removed when its count falls to 0). */
    private final ConcurrentMap<String, Integer> held = new ConcurrentHashMap<>();

    /**
     * @param what what is held, plural ("log streams"), for the messages
     */
    Limiter(int slots, int perUser, String what) {
        this.slots = new Semaphore(slots);
        this.perUser = perUser;
        this.what = what;
    }

    /**
     * One slot of {@code userId}, released by closing it: {@link DomainException.TooManyForUser} when the user holds
     * their cap already, {@link DomainException.Busy} when all slots are taken.
     */
    Slot acquire(String userId) {
        boolean[] taken = {false};
        held.compute(userId, (user, count) -> {
            int n = count == null ? 0 : count;
            if (n >= perUser) {
                return count;
            }
            taken[0] = true;
            return n + 1;
        });
        if (!taken[0]) {
            throw new DomainException.TooManyForUser("Too many " + what + " open for this user (limit " + perUser
                    + "); close one or try again shortly.");
        }
        if (!slots.tryAcquire()) {
            releaseUser(userId);
            throw new DomainException.Busy("Too many " + what + " open at once; try again shortly.");
        }
        return new Slot() {
            private boolean closed;

            @Override
            public synchronized void close() {
                if (!closed) {
                    closed = true;
                    slots.release();
                    releaseUser(userId);
                }
            }
        };
    }

    /** The slots {@code userId} holds now (tests). */
    int heldBy(String userId) {
        return held.getOrDefault(userId, 0);
    }

    private void releaseUser(String userId) {
        held.computeIfPresent(userId, (user, count) -> count <= 1 ? null : count - 1);
    }

    /** A held slot; closing it more than once releases it once. */
    interface Slot extends AutoCloseable {
        @Override
        void close();
    }
}
