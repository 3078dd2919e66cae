package org.minifaas.common.nats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.minifaas.common.testing.NatsInspect;
import org.minifaas.common.testing.NatsTestServer;

/** A nats-server that requires a token: the services bring NATS_TOKEN, anyone without it is refused at once. */
class NatsAuthIT {
    static final String TOKEN = "s3cret-token-for-tests";
    static NatsTestServer server;

    @BeforeAll
    static void start() {
        server = NatsTestServer.start("--auth", TOKEN);
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
    }

    @Test
    void theTokenOpensTheServer() throws Exception {
        try (NatsLayer layer = NatsLayer.connect(server.settings().withToken(TOKEN), "with-token")) {
            layer.taskQueue().ensure();
            assertEquals(0, NatsInspect.backlog(layer));
        }
    }

    @Test
    void noTokenOrAWrongOneFailsFastWithAClearError() {
        IllegalStateException none =
                assertThrows(IllegalStateException.class, () -> NatsLayer.connect(server.settings(), "without-token"));
        assertTrue(none.getMessage().contains("NATS_TOKEN"), none.getMessage());
        assertThrows(
                IllegalStateException.class,
                () -> NatsLayer.connect(server.settings().withToken("wrong"), "wrong-token"));
    }

    @Test
    void theTokenIsNeverPrinted() {
        assertTrue(!server.settings().withToken(TOKEN).toString().contains(TOKEN));
    }
}
