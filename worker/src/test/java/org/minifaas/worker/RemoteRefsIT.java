package org.minifaas.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.minifaas.common.net.AddressPolicy;
import org.minifaas.common.testing.GitHttpServer;

/** The in-process ref question against a real {@code git http-backend}, and against servers that misbehave. */
class RemoteRefsIT {
    private static GitHttpServer git;
    private static HttpServer hostile;
    private static final AtomicInteger hostileRequests = new AtomicInteger();
    private final RemoteRefs refs = new RemoteRefs(new AddressPolicy(true), Duration.ofSeconds(5));

    @BeforeAll
    static void servers() throws Exception {
        git = GitHttpServer.start();
        hostile = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        hostile.createContext("/endless/", exchange -> {
            hostileRequests.incrementAndGet();
            exchange.getResponseHeaders().add("Content-Type", "application/x-git-upload-pack-advertisement");
            exchange.sendResponseHeaders(200, 0);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(pkt("# service=git-upload-pack\n"));
                out.write("0000".getBytes(StandardCharsets.US_ASCII));
                byte[] ref = pkt("0123456789012345678901234567890123456789 refs/heads/" + "x".repeat(900) + "\n");
                for (int i = 0; i < 100_000; i++) { // ~90 MB if read to the end
                    out.write(ref);
                }
            } catch (IOException ignored) {
                // the client hung up: what the test wants
            }
        });
        hostile.createContext("/redirect/", exchange -> {
            hostileRequests.incrementAndGet();
            exchange.getResponseHeaders().add("Location", git.url("app") + "/info/refs?service=git-upload-pack");
            exchange.sendResponseHeaders(302, -1);
            exchange.close();
        });
        hostile.createContext("/dumb/", exchange -> {
            hostileRequests.incrementAndGet();
            byte[] body =
                    "0123456789012345678901234567890123456789\trefs/heads/main\n".getBytes(StandardCharsets.US_ASCII);
            exchange.getResponseHeaders().add("Content-Type", "text/plain");
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        hostile.createContext("/busy/", exchange -> {
            hostileRequests.incrementAndGet();
            exchange.getResponseHeaders().add("Retry-After", "3600");
            exchange.sendResponseHeaders(503, -1);
            exchange.close();
        });
        hostile.start();
    }

    @AfterAll
    static void stop() throws IOException {
        git.close();
        hostile.stop(0);
    }

    private static byte[] pkt(String line) {
        byte[] data = line.getBytes(StandardCharsets.UTF_8);
        return (String.format("%04x", data.length + 4) + line).getBytes(StandardCharsets.UTF_8);
    }

    private String hostileUrl(String path) {
        return "http://127.0.0.1:" + hostile.getAddress().getPort() + "/" + path + "/repo";
    }

    @Test
    void readsHeadBranchesAndPeeledTagsFromRealGit() throws Exception {
        git.createRepo("app", Map.of("main.go", "package main\nfunc main() {}\n"));
        String first = git.head("app");
        git.tag("app", "v1");
        git.commit("app", Map.of("main.go", "package main\nfunc main() { println(1) }\n"), "second");
        String second = git.head("app");

        Map<String, String> advertised =
                refs.advertised(URI.create(git.url("app"))).orElseThrow();

        assertEquals(second, advertised.get("HEAD"), advertised::toString);
        assertTrue(advertised.containsValue(second), advertised::toString);
        assertEquals(first, advertised.get("refs/tags/v1"), advertised::toString);
        assertNotEquals(first, second);
    }

    @Test
    void theWarmUpsMadeUpAdvertisementIsReadInFull() throws Exception {
        // what the worker's warm-up serves itself must go through the whole parse, or the parse stays cold
        Map<String, String> refs = RemoteRefs.parse(new java.io.ByteArrayInputStream(GitSource.warmUpAdvertisement()))
                .orElseThrow();
        assertEquals(Map.of("HEAD", "0".repeat(39) + "1", "refs/heads/main", "0".repeat(39) + "1"), refs);
    }

    @Test
    void aMissingRepositoryCannotBeTold() throws Exception {
        assertEquals(Optional.empty(), refs.advertised(URI.create(git.url("no-such-repository"))));
    }

    @Test
    void anEndlessAdvertisementIsCutAtTheCap() throws Exception {
        long start = System.nanoTime();
        assertEquals(Optional.empty(), refs.advertised(URI.create(hostileUrl("endless"))));
        assertTrue(System.nanoTime() - start < Duration.ofSeconds(5).toNanos(), "stopped at the cap, not the end");
    }

    @Test
    void redirectsAreNotFollowedAndDumbServersAreLeftToGit() throws Exception {
        assertEquals(Optional.empty(), refs.advertised(URI.create(hostileUrl("redirect"))));
        assertEquals(Optional.empty(), refs.advertised(URI.create(hostileUrl("dumb"))));
    }

    @Test
    void aBusyAnswerIsNotWaitedForNorAskedAgain() throws Exception {
        // httpclient's default retry strategy slept for the server's Retry-After, however long
        int before = hostileRequests.get();
        long started = System.nanoTime();
        assertEquals(Optional.empty(), refs.advertised(URI.create(hostileUrl("busy"))));
        assertTrue(System.nanoTime() - started < Duration.ofSeconds(5).toNanos(), "waited for Retry-After");
        assertEquals(before + 1, hostileRequests.get(), "asked again");
    }

    @Test
    void refusedAddressesAreNeverConnectedTo() throws Exception {
        RemoteRefs strict = new RemoteRefs(new AddressPolicy(false), Duration.ofSeconds(5));
        int before = hostileRequests.get();
        assertEquals(Optional.empty(), strict.advertised(URI.create(hostileUrl("dumb"))));
        assertEquals(
                Optional.empty(),
                strict.advertised(
                        URI.create("http://localhost:" + hostile.getAddress().getPort() + "/dumb/repo")));
        assertEquals(before, hostileRequests.get(), "no request reached a loopback server");
        strict.close();
    }

    @Test
    void otherSchemesAreLeftToGit() throws Exception {
        assertEquals(Optional.empty(), refs.advertised(URI.create("git://127.0.0.1:1/repo")));
    }
}
