package org.minifaas.worker;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/** A TCP server on one address that answers every connection with the same HTTP response, then closes it. */
final class AnsweringServer implements AutoCloseable {
    private final ServerSocket socket;
    private final java.util.concurrent.atomic.AtomicInteger accepted;

    private AnsweringServer(ServerSocket socket, java.util.concurrent.atomic.AtomicInteger accepted) {
        this.socket = socket;
        this.accepted = accepted;
    }

    static AnsweringServer start(InetAddress address, String body) throws IOException {
        ServerSocket socket = new ServerSocket(0, 50, address);
        byte[] response =
                ("HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n" + body).getBytes(StandardCharsets.US_ASCII);
        java.util.concurrent.atomic.AtomicInteger accepted = new java.util.concurrent.atomic.AtomicInteger();
        Thread t = new Thread(
                () -> {
                    while (!socket.isClosed()) {
                        try (Socket s = socket.accept();
                                OutputStream out = s.getOutputStream()) {
                            accepted.incrementAndGet();
                            out.write(response);
                        } catch (IOException e) {
                            return;
                        }
                    }
                },
                "answering-server");
        t.setDaemon(true);
        t.start();
        return new AnsweringServer(socket, accepted);
    }

    int port() {
        return socket.getLocalPort();
    }

    /** Connections accepted so far. */
    int accepted() {
        return accepted.get();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
