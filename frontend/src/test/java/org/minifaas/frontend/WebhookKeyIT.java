package org.minifaas.frontend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.minifaas.frontend.V1Client.json;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.minifaas.common.webhook.WebhookKeys;

/** {@code GET /v1/webhook-key}: each user's own key, derived from WEBHOOK_SECRET as the observer derives it. */
class WebhookKeyIT {
    static final String SECRET = "webhook-key-it-secret";
    static RunningFrontend frontend;
    static RunningFrontend unconfigured;
    static V1Client api;

    @BeforeAll
    static void start() throws Exception {
        frontend = RunningFrontend.start(s -> s, List.of(), false, c -> RunningFrontend.withWebhookSecret(c, SECRET));
        unconfigured = RunningFrontend.start(s -> s, List.of());
        api = new V1Client(frontend.base);
    }

    @AfterAll
    static void stop() throws Exception {
        frontend.close();
        unconfigured.close();
    }

    @Test
    void eachUserGetsTheirOwnDerivedKey() throws Exception {
        HttpResponse<byte[]> alice = api.get("alice", "/v1/webhook-key");
        HttpResponse<byte[]> bob = api.get("bob", "/v1/webhook-key");
        assertEquals(200, alice.statusCode());
        assertEquals(200, bob.statusCode());
        assertTrue(alice.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
        assertEquals("no-store", alice.headers().firstValue("Cache-Control").orElse(""));
        JsonNode a = json(alice);
        JsonNode b = json(bob);
        assertEquals(Set.of("key", "algorithm", "header"), fieldNames(a));
        assertEquals(WebhookKeys.forUser(SECRET, "alice"), a.get("key").asText());
        assertEquals(WebhookKeys.forUser(SECRET, "bob"), b.get("key").asText());
        assertNotEquals(a.get("key").asText(), b.get("key").asText());
        assertTrue(a.get("key").asText().matches("[0-9a-f]{64}"), a.toString());
        assertNotEquals(SECRET, a.get("key").asText());
        assertEquals("HMAC-SHA256", a.get("algorithm").asText());
        assertEquals("X-MiniFaaS-Signature", a.get("header").asText());
        // the same user, the same key
        assertEquals(a, json(api.get("alice", "/v1/webhook-key")));
    }

    @Test
    void anIdentityIsRequired() throws Exception {
        HttpResponse<byte[]> r = api.get(null, "/v1/webhook-key");
        assertEquals(401, r.statusCode());
        assertTrue(json(r).get("error").isTextual());
        assertEquals(
                401,
                new V1Client(unconfigured.base).get(null, "/v1/webhook-key").statusCode());
    }

    @Test
    void withoutAWebhookSecretThereIsNoKey() throws Exception {
        HttpResponse<byte[]> r = new V1Client(unconfigured.base).get("alice", "/v1/webhook-key");
        assertEquals(404, r.statusCode());
        assertEquals(
                "webhooks are not configured on this server (WEBHOOK_SECRET unset)",
                json(r).get("error").asText());
    }

    static Set<String> fieldNames(JsonNode node) {
        Set<String> names = new java.util.TreeSet<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
