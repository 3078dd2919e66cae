package org.minifaas.observer;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The {@code X-MiniFaaS-Signature} of a webhook body: {@code sha256=} and the lower-case hex HMAC-SHA256 of the
 * exact body bytes, keyed with the task owner's key (its UTF-8 bytes), {@code WebhookKeys.forUser(WEBHOOK_SECRET, user)}.
 */
final class WebhookSignature {
    public static final String HEADER = "X-MiniFaaS-Signature";
    static final String ALGORITHM = "HmacSHA256";
    static final String PREFIX = "sha256=";

    private final SecretKeySpec key;

    public WebhookSignature(String secret) {
        if (secret == null || secret.isEmpty()) {
            throw new IllegalArgumentException("no secret to sign with");
        }
        this.key = new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), ALGORITHM);
    }

    /** The header value for {@code body}. */
    public String sign(byte[] body) {
        try {
            Mac mac = Mac.getInstance(ALGORITHM); // a Mac is not thread-safe: one per signature
            mac.init(key);
            return PREFIX + HexFormat.of().formatHex(mac.doFinal(body));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HMAC-SHA256 unavailable", e); // every JDK has it
        }
    }
}
