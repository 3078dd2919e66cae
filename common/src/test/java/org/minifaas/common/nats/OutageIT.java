package org.minifaas.common.nats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.minifaas.common.model.Task;
import org.minifaas.common.model.TaskStatus;
import org.minifaas.common.testing.NatsTestServer;
import org.minifaas.common.testing.Poll;

/** A nats-server killed with -9 and restarted on its store, under a connected layer. */
class OutageIT {

    @Test
    void whileNatsIsDownWritesFailAtOnceTheQueueReaderRestsAndEverythingWorksAfter() throws Exception {
        try (NatsTestServer server = NatsTestServer.start();
                NatsLayer layer = NatsLayer.connect(server.settings(), "outage-test")) {
            UUID before = UUID.randomUUID();
            layer.userTasks("outage-user").createPending(before);
            AtomicBoolean running = new AtomicBoolean(true);
            AtomicInteger taken = new AtomicInteger();
            Thread reader = new Thread(
                    () -> layer.taskQueue().take(running::get, m -> {
                        taken.incrementAndGet();
                        m.ack();
                    }),
                    "queue-reader");
            reader.start();

            server.kill();
            Poll.until(Duration.ofSeconds(10), layer::isConnected, connected -> !connected, "the disconnect");
            // no reconnect buffer: a write now fails at once instead of being replayed later, unseen
            long start = System.nanoTime();
            assertThrows(Exception.class, () -> layer.userTasks("outage-user").setStatus(before, TaskStatus.FINISHED));
            assertTrue(Duration.ofNanos(System.nanoTime() - start).toMillis() < 3_000);
            // the reader waits for NATS instead of spinning on refused pulls
            ThreadMXBean threads = ManagementFactory.getThreadMXBean();
            long cpuBefore = threads.getThreadCpuTime(reader.getId());
            Thread.sleep(2_000);
            long cpuMs = (threads.getThreadCpuTime(reader.getId()) - cpuBefore) / 1_000_000;
            assertTrue(cpuMs < 300, "the queue reader used " + cpuMs + " ms of CPU in 2 s while NATS was down");

            server.restart();
            Poll.until(Duration.ofSeconds(20), layer::isConnected, connected -> connected, "the reconnect");
            assertEquals(
                    TaskStatus.PENDING,
                    layer.userTasks("outage-user").status(before).orElseThrow(),
                    "the failed write was not replayed after the reconnect");
            layer.taskQueue()
                    .publish(new Task(UUID.randomUUID(), "outage-user", "https://example.com/x.git", List.of()));
            Poll.until(Duration.ofSeconds(20), taken::get, n -> n == 1, "the reader to take a task again");
            running.set(false);
            reader.join(5_000);
            assertFalse(reader.isAlive());
        }
    }

    @Test
    void theWorkerRegistryKeptInMemoryIsMadeAgainAfterANatsRestart() throws Exception {
        try (NatsTestServer server = NatsTestServer.start();
                NatsLayer layer = NatsLayer.connect(server.settings(), "registry-test")) {
            layer.workers().beat("w-1", "{}");
            assertEquals(1, layer.workers().live());

            server.kill(); // the registry's stream lives in the server's memory: gone with it
            Poll.until(Duration.ofSeconds(10), layer::isConnected, connected -> !connected, "the disconnect");
            server.restart();
            Poll.until(Duration.ofSeconds(20), layer::isConnected, connected -> connected, "the reconnect");

            // was "stream not found" on every read (the admin's system status a 500) until every service restarted
            Poll.until(
                    Duration.ofSeconds(10),
                    () -> {
                        try {
                            return layer.workers().unsandboxed();
                        } catch (Exception e) {
                            return null; // JetStream may still be starting
                        }
                    },
                    ids -> ids != null && ids.isEmpty(),
                    "the registry to be readable again");
            assertEquals(0, layer.workers().live());
            layer.workers().beat("w-1", "{\"sandbox\":\"off\"}"); // failed with "no responders" before
            assertEquals(1, layer.workers().live());
            assertEquals(List.of("w-1"), layer.workers().unsandboxed());
        }
    }
}
