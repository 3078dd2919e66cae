package org.minifaas.common.webhook;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Each user's webhook signing key, derived from the server's WEBHOOK_SECRET: HMAC-SHA256(secret, "minifaas-webhook:"
 * + user id), in lower-case hex. Users are strangers to each other: with one key for all, any receiver's owner could
 * sign (or replay) deliveries to every other user's receiver. The frontend hands each user their own key
 * ({@code GET /v1/webhook-key}); the observer signs each delivery with its owner's key.
 */
public final class WebhookKeys {
    private static final String CONTEXT = "minifaas-webhook:";

    private WebhookKeys() {}

    public static String forUser(String secret, String userId) {
        if (secret == null || secret.isEmpty()) {
            throw new IllegalArgumentException("no WEBHOOK_SECRET to derive keys from");
        }
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            return HexFormat.of().formatHex(mac.doFinal((CONTEXT + userId).getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HMAC-SHA256 is part of every JRE", e);
        }
    }
}
