package org.minifaas.worker;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.HttpEntity;
import org.eclipse.jgit.transport.PacketLineIn;
import org.minifaas.common.net.AddressPolicy;
import org.minifaas.common.net.GuardedHttpClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The refs a Git smart-HTTP server advertises ({@code GET <url>/info/refs?service=git-upload-pack}, what
 * {@code git ls-remote} asks), read in the worker's JVM: one HTTP request on a kept-alive connection instead of a
 * sandbox, a process and a network namespace per task. Nothing of the repository runs or is stored; the answer is read
 * through a cap ({@link #MAX_BYTES}) and a deadline, and the connection goes only to an address the
 * {@link AddressPolicy} allows: the policy is the DNS resolver of the HTTP client, so the address checked is the
 * address connected to (no second lookup to rebind). No redirect is followed, no proxy, no cookies, no credentials.
 * Whatever cannot be told this way (another scheme, a dumb server, a redirect, an answer over the cap) is empty,
 * and the caller asks {@code git} in its sandbox or clones.
 */
final class RemoteRefs implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RemoteRefs.class);
    /** An advertisement larger than this (tens of thousands of refs) is left to {@code git} in its sandbox. */
    static final int MAX_BYTES = 1024 * 1024;

    private static final String ADVERTISEMENT = "application/x-git-upload-pack-advertisement";
    private static final Pattern OBJECT_ID = Pattern.compile("[0-9a-f]{40}|[0-9a-f]{64}");

    private final CloseableHttpClient http;
    private final Duration timeout;

    RemoteRefs(AddressPolicy policy, Duration timeout) {
        this.timeout = timeout;
        this.http = GuardedHttpClient.build(policy, timeout, 16, "git/2-minifaas");
    }

    /**
     * Every ref the server advertises, by name ({@code HEAD}, {@code refs/heads/main}, {@code refs/tags/v1^{}} for
     * what an annotated tag points to) to object id, or empty when this way cannot tell.
     */
    Optional<Map<String, String>> advertised(URI repository) throws InterruptedException {
        String scheme = String.valueOf(repository.getScheme()).toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            return Optional.empty();
        }
        String base = repository.toString().replaceAll("/+$", "");
        HttpGet get = new HttpGet(base + "/info/refs?service=git-upload-pack");
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            return http.execute(get, response -> {
                HttpEntity entity = response.getEntity();
                ContentType type = entity == null ? null : ContentType.parseLenient(entity.getContentType());
                if (response.getCode() != 200 || type == null || !ADVERTISEMENT.equals(type.getMimeType())) {
                    return Optional.<Map<String, String>>empty();
                }
                try (InputStream body = new Bounded(entity.getContent(), MAX_BYTES, deadline)) {
                    return parse(body);
                }
            });
        } catch (IOException | RuntimeException e) {
            if (Thread.currentThread().isInterrupted()) {
                throw new InterruptedException();
            }
            log.debug("refs of {} not read in process: {}", repository, e.toString());
            return Optional.empty();
        }
    }

    /** The smart-HTTP advertisement: a service line, a flush, then {@code <id> <name>} lines (the first with capabilities). */
    static Optional<Map<String, String>> parse(InputStream body) throws IOException {
        PacketLineIn in = new PacketLineIn(body);
        String first = in.readString();
        if (PacketLineIn.isEnd(first) || !first.startsWith("# service=git-upload-pack")) {
            return Optional.empty();
        }
        String line = in.readString();
        if (PacketLineIn.isEnd(line)) {
            line = in.readString();
        }
        Map<String, String> refs = new LinkedHashMap<>();
        for (; !PacketLineIn.isEnd(line); line = in.readString()) {
            int nul = line.indexOf('\0');
            String ref = nul >= 0 ? line.substring(0, nul) : line;
            int space = ref.indexOf(' ');
            if (space < 0 || !OBJECT_ID.matcher(ref.substring(0, space)).matches()) {
                return Optional.empty(); // not an advertisement we understand: git decides
            }
            refs.putIfAbsent(ref.substring(space + 1).trim(), ref.substring(0, space));
        }
        return Optional.of(refs);
    }

    @Override
    public void close() throws IOException {
        http.close();
    }

    /** At most {@code max} bytes, until {@code deadline}: a server cannot make the worker read forever or hold much. */
    private static final class Bounded extends FilterInputStream {
        private final long deadline;
        private long left;

        Bounded(InputStream in, long max, long deadline) {
            super(in);
            this.left = max;
            this.deadline = deadline;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (left <= 0) {
                throw new IOException("advertisement larger than " + MAX_BYTES + " bytes");
            }
            if (System.nanoTime() > deadline) {
                throw new IOException("advertisement not read in time");
            }
            int n = super.read(b, off, (int) Math.min(len, left));
            if (n > 0) {
                left -= n;
            }
            return n;
        }
    }
}
