package org.minifaas.worker.sandbox;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import org.minifaas.common.Threads;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Egress networks made ahead of the functions that will use them (EGRESS_READY_AHEAD): a command's cgroups, with the
 * functions' limits, holding a new network namespace and its slirp4netns already started in them, exactly as
 * {@link Egress#attach} makes them for one command. A function's run then does not wait the ~15-20 ms they take to
 * start. Each is taken by one command only and ends with it, as before; at most {@code ahead} wait at once, made again
 * in the background after each is taken. A command with other limits (a build step) makes its own. One is not handed
 * out while the firewall table is missing, nor when one of its helpers died while it waited.
 *
 * <p>The helpers are started by this class's own thread, which lives as long as the sandbox: their parent-death
 * signal follows the thread that started them.
 */
final class ReadyNetworks implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ReadyNetworks.class);

    /** A command's cgroups with its network already attached; closing it closes both, the network first. */
    record Ready(Cgroups.Command group, Egress.Attachment network) implements AutoCloseable {
        @Override
        public void close() {
            network.close();
            group.close();
        }
    }

    private final Cgroups cgroups;
    private final Egress egress;
    private final Function<Cgroups.Command, List<String>> join;
    private final Limits limits;
    private final int ahead;
    private final Deque<Ready> ready = new ArrayDeque<>();
    private final ExecutorService maker = Executors.newSingleThreadExecutor(Threads.daemon("egress-ahead"));
    private final AtomicBoolean fillScheduled = new AtomicBoolean();
    private volatile boolean failing;
    private boolean closed;
    private long taken;

    /**
     * @param join the prefix that moves a helper into a command's cgroups (as for a command's own network)
     * @param limits the limits of the commands these are for (the functions')
     */
    ReadyNetworks(
            Cgroups cgroups, Egress egress, Function<Cgroups.Command, List<String>> join, Limits limits, int ahead) {
        this.cgroups = cgroups;
        this.egress = egress;
        this.join = join;
        this.limits = limits;
        this.ahead = ahead;
        refill();
    }

    /** A network made for commands with {@code wanted} limits, if one is waiting and usable; another is made. */
    Optional<Ready> take(Limits wanted) {
        if (!wanted.equals(limits)) {
            return Optional.empty();
        }
        Ready next;
        synchronized (this) {
            if (closed) {
                return Optional.empty();
            }
            next = ready.poll();
        }
        refill();
        if (next == null) {
            return Optional.empty();
        }
        if (!egress.firewallInPlace() || !next.network().alive()) {
            next.close(); // the command makes its own (which is refused while the firewall is missing)
            return Optional.empty();
        }
        synchronized (this) {
            taken++;
        }
        return Optional.of(next);
    }

    /** Schedules one fill, unless one is scheduled and not started yet (takes in a row make one refill). */
    private void refill() {
        if (!fillScheduled.compareAndSet(false, true)) {
            return;
        }
        try {
            maker.execute(() -> {
                fillScheduled.set(false); // a take from now on schedules another
                fill();
            });
        } catch (RejectedExecutionException closing) {
            // closed meanwhile
        }
    }

    /**
     * Makes networks until {@code ahead} wait; stops at the first failure (the next take tries again). Never lets
     * anything end this thread: the helpers' parent-death signal follows the thread that started them, so its end
     * would kill every network it made, those in use included.
     */
    private void fill() {
        while (true) {
            synchronized (this) {
                if (closed || ready.size() >= ahead) {
                    return;
                }
            }
            Ready made;
            try {
                made = make();
            } catch (InterruptedException e) {
                return; // closing
            } catch (Throwable e) {
                // the next command makes its own network, and says why if it cannot either
                if (!failing) {
                    log.warn("egress networks are not made ahead (each run makes its own): {}", e.toString());
                }
                failing = true;
                return;
            }
            if (failing) {
                log.info("egress networks are made ahead again");
                failing = false;
            }
            synchronized (this) {
                if (!closed) {
                    ready.add(made);
                    continue;
                }
            }
            made.close();
            return;
        }
    }

    private Ready make() throws IOException, InterruptedException {
        Cgroups.Command group = cgroups.create(limits);
        boolean made = false;
        try {
            Ready ready = new Ready(group, egress.attach(join.apply(group)));
            made = true;
            return ready;
        } finally {
            if (!made) {
                group.close();
            }
        }
    }

    /** Whether the last attempt to make one failed (each run then makes its own). */
    boolean failing() {
        return failing;
    }

    /** How many were handed to commands so far. */
    synchronized long taken() {
        return taken;
    }

    /** The process ids of the helpers of the networks waiting now. */
    synchronized List<Long> waitingPids() {
        List<Long> pids = new ArrayList<>();
        ready.forEach(r -> pids.addAll(r.network().pids()));
        return pids;
    }

    /** Stops making networks and ends the waiting ones (their helpers, their cgroups). */
    @Override
    public void close() {
        List<Ready> left;
        synchronized (this) {
            closed = true;
            left = new ArrayList<>(ready);
            ready.clear();
        }
        maker.shutdownNow();
        left.forEach(Ready::close);
        try {
            // a network being made is closed by its own thread: done before the sandbox removes its cgroups
            if (!maker.awaitTermination(15, TimeUnit.SECONDS)) {
                log.warn("a network being made ahead did not stop in time");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
