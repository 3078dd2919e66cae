package org.minifaas.observer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.minifaas.common.net.AddressPolicy;

/**
 * The address policy where the connection is made: whatever the sender checked before, the client connects only to
 * addresses the policy allows (a DNS answer that changed since, rebinding, gets no connection).
 */
class WebhookClientIT {
    private static final byte[] BODY = "{}".getBytes(StandardCharsets.UTF_8);

    @Test
    void aHostResolvingToAPrivateAddressGetsNoConnection() throws Exception {
        try (WebhookSenderIT.Receiver receiver = new WebhookSenderIT.Receiver(n -> 200);
                WebhookClient strict = new WebhookClient(Duration.ofSeconds(5), new AddressPolicy(false))) {
            for (String host : new String[] {"127.0.0.1", "localhost"}) {
                URI url = URI.create(receiver.url("/hook").replace("127.0.0.1", host));
                WebhookClient.Outcome outcome = strict.post(url, "d-1", BODY, "sig");
                assertEquals(0, outcome.status(), host);
                assertTrue(outcome.error().startsWith("refused: " + host + " resolves to a private"), outcome.error());
            }
            assertEquals(0, receiver.requests.size(), "no request reached the loopback receiver");
        }
    }

    @Test
    void allowedAddressesAreDeliveredTo() throws Exception {
        try (WebhookSenderIT.Receiver receiver = new WebhookSenderIT.Receiver(n -> 204);
                WebhookClient open = new WebhookClient(Duration.ofSeconds(5), new AddressPolicy(true))) {
            WebhookClient.Outcome outcome = open.post(URI.create(receiver.url("/hook")), "d-1", BODY, "sig");
            assertTrue(outcome.delivered(), String.valueOf(outcome.error()));
            assertEquals(204, outcome.status());
            assertEquals(1, receiver.requests.size());
            assertEquals("d-1", receiver.requests.get(0).header("X-MiniFaaS-Delivery"));
        }
    }

    @Test
    void aClosedClientSendsNothingAndHandsTheAttemptBack() throws Exception {
        try (WebhookSenderIT.Receiver receiver = new WebhookSenderIT.Receiver(n -> 204)) {
            WebhookClient unused = new WebhookClient(Duration.ofSeconds(5), new AddressPolicy(true));
            unused.close(); // closed before its first delivery: its HTTP client was never made
            InterruptedException e = assertThrows(
                    InterruptedException.class,
                    () -> unused.post(URI.create(receiver.url("/hook")), "d-2", BODY, "sig"));
            assertTrue(e.getMessage().contains("stops"), e.getMessage());
            assertEquals(0, receiver.requests.size(), "nothing was sent after the close");
        }
    }
}
