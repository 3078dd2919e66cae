package org.minifaas.common.nats;

import io.nats.client.JetStreamApiException;
import io.nats.client.ObjectStore;
import java.io.IOException;
import java.io.OutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * SHA-256, which every JRE has: a new digest (for names made from hashes), and the object store's put and get,
 * which declare its absence. The one place that turns that impossible case into an error.
 */
final class Sha256 {
    /** Copied for each digest: a copy costs far less than a provider lookup (every request names a bucket). */
    private static final MessageDigest PROTOTYPE = lookUp();

    private Sha256() {}

    static MessageDigest digest() {
        try {
            return (MessageDigest) PROTOTYPE.clone();
        } catch (CloneNotSupportedException e) {
            return lookUp();
        }
    }

    private static MessageDigest lookUp() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw missing(e);
        }
    }

    /** Stores {@code data} as object {@code name}, replacing it. */
    static void put(ObjectStore store, String name, byte[] data) throws IOException, JetStreamApiException {
        try {
            store.put(name, data);
        } catch (NoSuchAlgorithmException e) {
            throw missing(e);
        }
    }

    /** Writes object {@code name} to {@code out}. */
    static void get(ObjectStore store, String name, OutputStream out)
            throws IOException, JetStreamApiException, InterruptedException {
        try {
            store.get(name, out);
        } catch (NoSuchAlgorithmException e) {
            throw missing(e);
        }
    }

    private static IllegalStateException missing(NoSuchAlgorithmException e) {
        return new IllegalStateException("SHA-256 is part of every JRE", e);
    }
}
