package org.minifaas.common.ops;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;

/**
 * The JDK's HTTP server without Nagle's algorithm. It writes a response's headers and its body in two writes; with
 * Nagle's algorithm on, the body waits until the client acknowledges the headers, and a client delays that ACK by up to
 * 40 ms: an ops scrape, a health check or the worker's warm-up question then took ~40 ms instead of ~1 ms.
 */
public final class JdkHttpServer {
    /** The JDK's switch; it reads it once, when the first server of the process is made. */
    static final String NO_DELAY = "sun.net.httpserver.nodelay";

    private JdkHttpServer() {}

    /** A server bound to {@code address}, not started; an operator's own {@code -Dsun.net.httpserver.nodelay} wins. */
    public static HttpServer create(InetSocketAddress address) throws IOException {
        if (System.getProperty(NO_DELAY) == null) {
            System.setProperty(NO_DELAY, "true");
        }
        return HttpServer.create(address, 0);
    }
}
