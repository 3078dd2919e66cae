package org.minifaas.frontend;

import io.nats.client.JetStreamApiException;
import java.io.IOException;
import java.util.List;
import org.minifaas.common.model.InjectionRequest;
import org.minifaas.common.nats.NatsLayer;
import org.minifaas.common.nats.ObserverStore;
import org.minifaas.common.nats.TaskQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The administrators' side: system status from the observer's bucket, and file injection. */
public final class SystemService {
    private static final Logger log = LoggerFactory.getLogger(SystemService.class);
    static final int MAX_NAME_LENGTH = 200;

    private final NatsLayer nats;

    public SystemService(NatsLayer nats) {
        this.nats = nats;
    }

    /**
     * @param status           the observer's decision: OK or congested
     * @param numberOfWorkers  the worker count the observer decided on (a string, as in the original)
     * @param liveWorkers      worker processes that sent a heartbeat within its TTL
     * @param backlog          tasks waiting for a worker
     * @param running          tasks being executed
     * @param logs             the observer's events of the last day, oldest first
     * @param warnings         what an admin must know: workers running functions without a sandbox
     */
    public record SystemStatus(
            String status,
            String numberOfWorkers,
            long liveWorkers,
            long backlog,
            long running,
            List<String> logs,
            List<String> warnings) {}

    /** Whether NATS is reachable right now; without it no endpoint can answer. */
    public boolean natsAvailable() {
        return nats.isConnected();
    }

    public SystemStatus status() throws IOException, JetStreamApiException, InterruptedException {
        ObserverStore observer = nats.observer();
        TaskQueue.Counters queue = nats.taskQueue().counters();
        return new SystemStatus(
                observer.get(ObserverStore.STATUS).orElse("OK"),
                observer.get(ObserverStore.WORKERS).orElse("0"),
                nats.workers().live(),
                queue.waiting(),
                queue.inFlight(),
                observer.logs(),
                nats.workers().unsandboxed().stream()
                        .map(id -> "worker " + id + " runs functions WITHOUT a sandbox (SANDBOX=off)")
                        .toList());
    }

    /** Queues a file for the injector under its safe base name; returns that name. */
    public String inject(String fileName, byte[] content) throws IOException, JetStreamApiException {
        String name = safeName(fileName);
        nats.injections().publish(new InjectionRequest(name, content));
        log.info("file {} ({} bytes) queued for injection", name, content.length);
        return name;
    }

    /**
     * The base name of an uploaded file (no directories, either separator), restricted to
     * {@code [A-Za-z0-9._-]}, without leading dots.
     */
    static String safeName(String fileName) {
        String base = fileName == null ? "" : fileName;
        base = base.substring(Math.max(base.lastIndexOf('/'), base.lastIndexOf('\\')) + 1);
        base = base.replaceAll("[^A-Za-z0-9._-]", "_").replaceFirst("^\\.+", "");
        if (base.length() > MAX_NAME_LENGTH) {
            base = base.substring(base.length() - MAX_NAME_LENGTH);
        }
        if (base.isEmpty() || base.chars().allMatch(c -> c == '_')) {
            throw new DomainException.InvalidRequest("The file needs a name made of letters, digits, '.', '_' or '-'.");
        }
        return base;
    }
}
