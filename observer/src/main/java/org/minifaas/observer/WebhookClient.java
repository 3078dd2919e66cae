package org.minifaas.observer;

import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.channels.UnresolvedAddressException;
import java.time.Duration;
import java.time.Instant;
import javax.net.ssl.SSLException;

/**
 * One webhook POST on the wire: the signed headers, the body as given, and the outcome as a one-line reason. No
 * redirect is followed and no proxy is used, so the request goes to the address the sender checked.
 */
final class WebhookClient {
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
    private final HttpClient http;

    WebhookClient(Duration timeout) {
        this.timeout = timeout;
        this.http = HttpClient.newBuilder()
                .connectTimeout(timeout)
                .followRedirects(HttpClient.Redirect.NEVER)
                .proxy(HttpClient.Builder.NO_PROXY)
                .version(HttpClient.Version.HTTP_1_1) // no h2c upgrade dance with receivers that mishandle it
                .build();
    }

    /** POSTs {@code body} with its {@code signature} (the header's value) as delivery {@code deliveryId}. */
    Outcome post(URI url, String deliveryId, byte[] body, String signature) throws InterruptedException {
        HttpRequest request;
        try {
            request = HttpRequest.newBuilder(url)
                    .timeout(timeout)
                    .header("Content-Type", "application/json")
                    .header(WebhookSignature.HEADER, signature)
                    .header(TIMESTAMP, Long.toString(Instant.now().getEpochSecond()))
                    .header(DELIVERY, deliveryId)
                    .header("User-Agent", USER_AGENT)
                    .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                    .build();
        } catch (IllegalArgumentException e) {
            return new Outcome(0, "invalid callback URL: " + e.getMessage());
        }
        try {
            HttpResponse<InputStream> response = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
            // only the status counts: closing the body at once means a slow or endless body cannot hold the sender
            response.body().close();
            int status = response.statusCode();
            if (status >= 200 && status < 300) {
                return new Outcome(status, null);
            }
            if (status >= 300 && status < 400) {
                return new Outcome(status, "HTTP " + status + " (redirects are not followed)");
            }
            return new Outcome(status, "HTTP " + status);
        } catch (IOException e) {
            return new Outcome(0, describe(e, url));
        }
    }

    /** A failure without a response, in a few words (the HTTP client's exceptions mostly have no message). */
    private String describe(IOException e, URI url) {
        if (e instanceof HttpConnectTimeoutException) {
            return "connection timed out after " + timeout.toSeconds() + " s";
        }
        if (e instanceof HttpTimeoutException) {
            return "no response within " + timeout.toSeconds() + " s";
        }
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof UnresolvedAddressException || t instanceof UnknownHostException) {
                return "unknown host " + url.getHost();
            }
            if (t instanceof SSLException) {
                return "TLS failed: " + t.getMessage();
            }
        }
        if (e instanceof ConnectException) {
            return "connection refused";
        }
        String kind = e.getClass().getSimpleName();
        return e.getMessage() == null ? kind : kind + ": " + e.getMessage();
    }
}
