package org.minifaas.common.net;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import org.apache.hc.client5.http.DnsResolver;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.ManagedHttpClientConnectionFactory;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.core5.http.config.Http1Config;
import org.apache.hc.core5.util.TimeValue;
import org.apache.hc.core5.util.Timeout;

/**
 * An HTTP client for addresses that users name (webhook receivers, Git servers asked for their refs), built once
 * for both: it connects only where {@link AddressPolicy} allows (the policy resolves the name, and the client
 * connects to the very address it allowed: no second lookup to rebind), bounds what a hostile server can make it
 * hold (one header line, the number of headers) and wait for (connect, read and response timeouts), and follows no
 * redirect, keeps no cookie, sends no credential, asks for no compression and repeats no request by itself.
 * (httpclient5 is an optional dependency of common: the modules that build one depend on it.)
 */
public final class GuardedHttpClient {
    private GuardedHttpClient() {}

    public static CloseableHttpClient build(
            AddressPolicy policy, Duration timeout, int maxConnections, String userAgent) {
        return HttpClients.custom()
                .setConnectionManager(PoolingHttpClientConnectionManagerBuilder.create()
                        // a hostile server's endless header line or thousand headers would otherwise be read into the
                        // heap
                        .setConnectionFactory(ManagedHttpClientConnectionFactory.builder()
                                .http1Config(Http1Config.custom()
                                        .setMaxLineLength(8192)
                                        .setMaxHeaderCount(100)
                                        .build())
                                .build())
                        .setDnsResolver(new PolicyResolver(policy))
                        .setDefaultConnectionConfig(ConnectionConfig.custom()
                                .setConnectTimeout(Timeout.of(timeout))
                                .setSocketTimeout(Timeout.of(timeout))
                                .setTimeToLive(TimeValue.ofSeconds(30))
                                .build())
                        .setMaxConnTotal(maxConnections)
                        .setMaxConnPerRoute(4)
                        .build())
                .setDefaultRequestConfig(RequestConfig.custom()
                        .setResponseTimeout(Timeout.of(timeout))
                        .build())
                .disableRedirectHandling()
                .disableCookieManagement()
                .disableAuthCaching()
                .disableAutomaticRetries()
                .disableContentCompression()
                .setUserAgent(userAgent)
                .build();
    }

    /** Resolves a host only to addresses the policy allows; a host with any other address does not resolve. */
    private record PolicyResolver(AddressPolicy policy) implements DnsResolver {
        @Override
        public InetAddress[] resolve(String host) throws UnknownHostException {
            return policy.resolveAllowed(host);
        }

        @Override
        public String resolveCanonicalHostname(String host) {
            return host; // only for Kerberos-style authentication, which is never used: no lookup
        }
    }
}
