package org.minifaas.common.webhook;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class WebhookKeysTest {
    @Test
    void eachUserHasTheirOwnStableKeyThatRevealsNeitherTheSecretNorAnotherUsersKey() {
        String alice = WebhookKeys.forUser("server-secret", "alice");
        assertEquals(alice, WebhookKeys.forUser("server-secret", "alice"), "stable");
        assertNotEquals(alice, WebhookKeys.forUser("server-secret", "bob"));
        assertNotEquals(alice, WebhookKeys.forUser("other-secret", "alice"));
        assertTrue(alice.matches("[0-9a-f]{64}"), alice);
        assertTrue(!alice.contains("server-secret"));
        // printf 'minifaas-webhook:alice' | openssl dgst -sha256 -hmac server-secret
        assertEquals("571f517da0669f852bcb77fa68932e9d34498adf2c0093882614383843f69e5a", alice);
        assertThrows(IllegalArgumentException.class, () -> WebhookKeys.forUser("", "alice"));
    }
}
