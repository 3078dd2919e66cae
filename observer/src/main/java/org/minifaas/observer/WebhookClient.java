package org.minifaas.observer;

import java.io.IOException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.charset.Charset;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.SSLException;
import org.apache.hc.client5.http.ConnectTimeoutException;
import org.apache.hc.client5.http.classic.methods.HttpPost;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.io.entity.ByteArrayEntity;
import org.minifaas.common.net.AddressPolicy;
import org.minifaas.common.net.GuardedHttpClient;

/**
 * One webhook POST on the wire: the signed headers, the body as given, and the outcome as a one-line reason. The
 * address policy is the HTTP client's DNS resolver, so the connection goes to an address that was checked (a DNS
 * server that answers a public address to the sender's check and a private one to the connection gets no
 * connection). No redirect is followed, no proxy is used, nothing of the response but its status is read.
 */
final class WebhookClient implements AutoCloseable {
    static final String TIMESTAMP = "X-MiniFaaS-Timestamp";
    static final String DELIVERY = "X-MiniFaaS-Delivery";
    static final String USER_AGENT = "MiniFaaS-Webhook";

    /** What came back: the HTTP status (0 when none) and, unless it was a 2xx, why the attempt failed. */
    record Outcome(int status, String error) {
        boolean delivered() {
            return error == null;
        }
    }

    private final Duration timeout;
    private final AddressPolicy policy;
    /**
     * Made at the first delivery: an observer that never sends a webhook does not load the HTTP client and TLS
     * classes (~3,000 classes less at start).
     */
    private CloseableHttpClient http;

    private boolean closed;

    private final Set<HttpPost> inFlight = ConcurrentHashMap.newKeySet();

    WebhookClient(Duration timeout, AddressPolicy policy) {
        this.timeout = timeout;
        this.policy = policy;
    }

    /** The HTTP client, made at the first call; after {@link #close} none: the attempt is handed back as stopping. */
    private synchronized CloseableHttpClient http() throws InterruptedException {
        if (closed) {
            throw new InterruptedException("webhook attempt aborted: the sender stops");
        }
        if (http == null) {
            // a retry is the sender's decision, with a new delivery id: the client repeats nothing by itself
            http = GuardedHttpClient.build(policy, timeout, 64, USER_AGENT);
        }
        return http;
    }

    /** POSTs {@code body} with its {@code signature} (the header's value) as delivery {@code deliveryId}. */
    Outcome post(URI url, String deliveryId, byte[] body, String signature) throws InterruptedException {
        HttpPost request;
        try {
            request = new HttpPost(url);
        } catch (IllegalArgumentException e) {
            return new Outcome(0, "invalid callback URL: " + e.getMessage());
        }
        request.setHeader(WebhookSignature.HEADER, signature);
        request.setHeader(TIMESTAMP, Long.toString(Instant.now().getEpochSecond()));
        request.setHeader(DELIVERY, deliveryId);
        request.setEntity(new ByteArrayEntity(body, ContentType.create("application/json", (Charset) null)));
        CloseableHttpClient client = http();
        inFlight.add(request);
        // only the status counts: closing the response unread means a slow or endless body cannot hold the sender
        try (ClassicHttpResponse response = client.executeOpen(null, request, null)) {
            int status = response.getCode();
            if (status >= 200 && status < 300) {
                return new Outcome(status, null);
            }
            if (status >= 300 && status < 400) {
                return new Outcome(status, "HTTP " + status + " (redirects are not followed)");
            }
            return new Outcome(status, "HTTP " + status);
        } catch (IOException e) {
            if (request.isCancelled() || Thread.currentThread().isInterrupted()) {
                Thread.interrupted(); // thrown instead: the status is cleared, as a blocking call that throws does
                throw new InterruptedException("webhook attempt aborted: the sender stops");
            }
            return new Outcome(0, describe(e, url));
        } finally {
            inFlight.remove(request);
        }
    }

    /** Aborts the attempts under way (blocking socket reads do not see a thread's interrupt): they throw InterruptedException. */
    void abortAll() {
        inFlight.forEach(HttpPost::cancel);
    }

    /** A failure without a response, in a few words. */
    private String describe(IOException e, URI url) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof AddressPolicy.RefusedAddressException) {
                return "refused: " + url.getHost() + " resolves to a private, loopback or link-local address";
            }
            if (t instanceof ConnectTimeoutException) {
                return "connection timed out after " + timeout.toSeconds() + " s";
            }
            if (t instanceof SocketTimeoutException) {
                return "no response within " + timeout.toSeconds() + " s";
            }
            if (t instanceof UnknownHostException) {
                return "unknown host " + url.getHost();
            }
            if (t instanceof SSLException) {
                return "TLS failed: " + t.getMessage();
            }
            if (t instanceof ConnectException) {
                return "connection refused";
            }
        }
        String kind = e.getClass().getSimpleName();
        return e.getMessage() == null ? kind : kind + ": " + e.getMessage();
    }

    @Override
    public synchronized void close() throws IOException {
        closed = true;
        if (http != null) {
            http.close();
        }
    }
}
