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

    private AnsweringServer(ServerSocket socket) {
        this.socket = socket;
    }

    static AnsweringServer start(InetAddress address, String body) throws IOException {
        ServerSocket socket = new ServerSocket(0, 50, address);
        byte[] response =
                ("HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n" + body).getBytes(StandardCharsets.US_ASCII);
        Thread t = new Thread(
                () -> {
                    while (!socket.isClosed()) {
                        try (Socket s = socket.accept();
                                OutputStream out = s.getOutputStream()) {
                            out.write(response);
                        } catch (IOException e) {
                            return;
                        }
                    }
                },
                "answering-server");
        t.setDaemon(true);
        t.start();
        return new AnsweringServer(socket);
    }

    int port() {
        return socket.getLocalPort();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
