package org.minifaas.injector;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.minifaas.common.model.InjectionRequest;
import org.minifaas.common.nats.InjectionQueue;
import org.minifaas.common.nats.NatsLayer;
import org.minifaas.common.testing.NatsInspect;
import org.minifaas.common.testing.NatsTestServer;
import org.minifaas.common.testing.Poll;

/** The injector against a real nats-server: files queued as the frontend queues them end up in the bucket. */
class InjectorIT {
    NatsTestServer server;
    NatsLayer nats;

    @BeforeEach
    void start() throws Exception {
        server = NatsTestServer.start();
        nats = NatsLayer.connect(server.settings(), "injector-test");
    }

    @AfterEach
    void stop() throws Exception {
        nats.close();
        server.close();
    }

    long queued() throws Exception {
        return nats.connection()
                .jetStreamManagement()
                .getStreamInfo(InjectionQueue.STREAM)
                .getStreamState()
                .getMsgCount();
    }

    @Test
    void queuedFilesAreStoredThenAcknowledged() throws Exception {
        byte[] binary = new byte[300_000];
        for (int i = 0; i < binary.length; i++) {
            binary[i] = (byte) (i * 31);
        }
        // queued before the injector runs: kept until it does
        nats.injections().publish(new InjectionRequest("model.bin", binary));
        nats.injections().publish(new InjectionRequest("notes.txt", "hi".getBytes(StandardCharsets.UTF_8)));
        assertEquals(2, queued());
        try (Injector injector = new Injector(nats)) {
            injector.start();
            Poll.until(Duration.ofSeconds(20), this::queued, n -> n == 0, "the queue to drain");
        }
        assertArrayEquals(binary, NatsInspect.injectedFile(nats, "model.bin").orElseThrow());
        assertEquals(
                "hi", new String(NatsInspect.injectedFile(nats, "notes.txt").orElseThrow(), StandardCharsets.UTF_8));
    }

    @Test
    void malformedMessagesAreDroppedWithoutStoppingTheInjector() throws Exception {
        nats.injections().ensure();
        nats.connection().jetStream().publish(InjectionQueue.SUBJECT, "no name".getBytes(StandardCharsets.UTF_8));
        nats.injections().publish(new InjectionRequest("after.txt", "ok".getBytes(StandardCharsets.UTF_8)));
        try (Injector injector = new Injector(nats)) {
            injector.start();
            Poll.until(Duration.ofSeconds(20), this::queued, n -> n == 0, "the queue to drain");
        }
        assertEquals(
                "ok", new String(NatsInspect.injectedFile(nats, "after.txt").orElseThrow(), StandardCharsets.UTF_8));
        assertEquals(java.util.List.of("after.txt"), NatsInspect.injectedNames(nats));
    }
}
