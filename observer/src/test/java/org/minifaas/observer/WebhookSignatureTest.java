package org.minifaas.observer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class WebhookSignatureTest {

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void isTheHexHmacSha256OfTheBodyWithThePrefix() {
        // the well-known HMAC-SHA256 test value (key "key")
        assertEquals(
                "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8",
                new WebhookSignature("key").sign(utf8("The quick brown fox jumps over the lazy dog")));
        // RFC 4231 test case 2
        assertEquals(
                "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
                new WebhookSignature("Jefe").sign(utf8("what do ya want for nothing?")));
    }

    @Test
    void dependsOnEveryByteAndOnTheSecret() {
        WebhookSignature signature = new WebhookSignature("s3cret");
        String a = signature.sign(utf8("{\"id\":1}"));
        assertEquals(a, signature.sign(utf8("{\"id\":1}")));
        assertNotEquals(a, signature.sign(utf8("{\"id\": 1}")));
        assertNotEquals(a, new WebhookSignature("s3cret!").sign(utf8("{\"id\":1}")));
        assertTrue(a.matches("sha256=[0-9a-f]{64}"), a);
    }

    @Test
    void thereIsNoSignatureWithoutASecret() {
        assertThrows(IllegalArgumentException.class, () -> new WebhookSignature(""));
    }
}
