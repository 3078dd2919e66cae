package org.minifaas.injector;

import io.nats.client.Message;
import java.time.Duration;
import java.util.Optional;
import org.minifaas.common.model.InjectionRequest;
import org.minifaas.common.nats.InjectionQueue;
import org.minifaas.common.nats.NatsLayer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes injected files from the injection queue and stores them in the injector bucket. A message
 * is acknowledged only once its file is stored; a failed store is retried later, a malformed
 * message is dropped; nothing stops the loop.
 */
final class Injector implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Injector.class);
    static final Duration RETRY_DELAY = Duration.ofSeconds(5);

    private final NatsLayer nats;
    private final InjectorMetrics metrics;
    private final Thread thread = new Thread(this::loop, "injector");
    private volatile boolean running;

    public Injector(NatsLayer nats) {
        this(nats, InjectorMetrics.none());
    }

    public Injector(NatsLayer nats, InjectorMetrics metrics) {
        this.nats = nats;
        this.metrics = metrics;
    }

    public void start() throws Exception {
        nats.injections().ensure();
        running = true;
        thread.start();
        log.info("injector started");
    }

    private void loop() {
        nats.injections().take(() -> running, this::handle);
    }

    void handle(Message message) {
        Optional<InjectionRequest> request = InjectionQueue.decode(message);
        if (request.isEmpty()) {
            log.error("dropping a malformed injection message (no file name header)");
            message.term();
            return;
        }
        try {
            nats.injectorBucket().store(request.get());
            message.ack();
            metrics.stored();
            log.info(
                    "stored injected file {} ({} bytes)",
                    request.get().fileName(),
                    request.get().content().length);
        } catch (Exception e) {
            log.error(
                    "storing {} failed, retrying in {} s: {}",
                    request.get().fileName(),
                    RETRY_DELAY.toSeconds(),
                    e.toString());
            message.nakWithDelay(RETRY_DELAY);
        }
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        thread.join(5_000);
    }
}
