package org.minifaas.worker;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** Keys of the worker's caches: the SHA-256 of everything that changes what is cached, as 64 hex digits. */
final class CacheKeys {
    private CacheKeys() {}

    static String of(String... parts) {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("no SHA-256 in this JVM", e);
        }
        for (String part : parts) {
            byte[] bytes = String.valueOf(part).getBytes(StandardCharsets.UTF_8);
            sha.update(Integer.toString(bytes.length).getBytes(StandardCharsets.US_ASCII));
            sha.update((byte) ':');
            sha.update(bytes);
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    static String of(byte[] content, String... parts) {
        String[] all = new String[parts.length + 1];
        System.arraycopy(parts, 0, all, 0, parts.length);
        all[parts.length] = HexFormat.of().formatHex(digest(content));
        return of(all);
    }

    private static byte[] digest(byte[] content) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(content);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("no SHA-256 in this JVM", e);
        }
    }
}
