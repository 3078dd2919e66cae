package org.minifaas.worker;

import java.io.IOException;
import java.net.Proxy;
import java.net.URISyntaxException;
import java.net.URL;
import java.util.Optional;
import org.eclipse.jgit.transport.http.HttpConnection;
import org.eclipse.jgit.transport.http.JDKHttpConnectionFactory;
import org.minifaas.common.net.AddressPolicy;

/**
 * JGit's HTTP connections, each checked against the {@link AddressPolicy} first: JGit asks for a connection
 * per request, redirects included, so no request of a clone reaches a refused address. The host is resolved
 * for the check and the JVM's address cache hands the connection the same addresses (the worker keeps
 * entries for a minute), so a DNS answer that changes between check and connect is not used.
 */
final class GuardedConnectionFactory extends JDKHttpConnectionFactory {
    /** What JGit reports when a connection is refused here; GitSource turns it into the task's reason. */
    static final String REFUSED = "refused by REPO_ALLOW_PRIVATE_ADDRESSES";

    private final AddressPolicy policy;

    GuardedConnectionFactory(AddressPolicy policy) {
        this.policy = policy;
    }

    @Override
    public HttpConnection create(URL url) throws IOException {
        check(url);
        return super.create(url);
    }

    @Override
    public HttpConnection create(URL url, Proxy proxy) throws IOException {
        check(url);
        return super.create(url, proxy);
    }

    private void check(URL url) throws IOException {
        Optional<String> refusal;
        try {
            refusal = policy.refusal(url.toURI());
        } catch (URISyntaxException e) {
            throw new IOException("invalid URL", e);
        }
        if (refusal.isPresent()) {
            throw new IOException(REFUSED + ": " + refusal.get());
        }
    }
}
