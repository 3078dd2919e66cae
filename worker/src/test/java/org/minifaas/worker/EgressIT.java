package org.minifaas.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.minifaas.common.config.NatsSettings;
import org.minifaas.common.model.TaskStatus;
import org.minifaas.common.testing.GitHttpServer;
import org.minifaas.common.testing.Poll;
import org.minifaas.common.testing.TestFiles;

/**
 * FUNCTION_NETWORK=egress on a real kernel: a "public" host (198.51.100.1, in a network namespace of this test
 * behind a veth pair) is reachable from a function; the host's loopback, its own addresses, private and
 * link-local addresses are not.
 */
class EgressIT {
    static final String PUBLIC = "198.51.100.1";
    static final String HOST_SIDE = "198.51.100.254";
    static String netns;
    static String hostVeth;
    static Process publicServer;
    static GitHttpServer git;
    static Path workDir;
    static TaskExecutor executor;
    static List<AnsweringServer> hostServers = new ArrayList<>();

    static void sh(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IOException(String.join(" ", command) + ": " + out);
        }
    }

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(Fixture.isRoot(), "network namespaces, nftables and slirp4netns need root (CI runs as root)");
        String id = Long.toString(System.nanoTime() % 100_000);
        netns = "mfpub" + id;
        hostVeth = "mfh" + id;
        sh("ip", "netns", "add", netns);
        sh("ip", "link", "add", hostVeth, "type", "veth", "peer", "name", "mfp" + id);
        sh("ip", "link", "set", "mfp" + id, "netns", netns);
        sh("ip", "addr", "add", HOST_SIDE + "/24", "dev", hostVeth);
        sh("ip", "link", "set", hostVeth, "up");
        sh("ip", "netns", "exec", netns, "ip", "addr", "add", PUBLIC + "/24", "dev", "mfp" + id);
        sh("ip", "netns", "exec", netns, "ip", "link", "set", "mfp" + id, "up");
        sh("ip", "netns", "exec", netns, "ip", "link", "set", "lo", "up");
        publicServer = new ProcessBuilder(
                        "ip", "netns", "exec", netns, "python3", "-m", "http.server", "8080", "--bind", PUBLIC)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        Poll.until(Duration.ofSeconds(20), EgressIT::publicServerAnswers, ok -> ok, "the public test server");
        git = GitHttpServer.start();
        workDir = Files.createTempDirectory("minifaas-egress-");
        executor = Fixture.executor(
                Fixture.config(NatsSettings.defaults("nats://127.0.0.1:1"), workDir, Duration.ofSeconds(20)));
    }

    static boolean publicServerAnswers() {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(PUBLIC, 8080), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** A server on one of the host's own addresses that answers every connection. */
    static int hostServer(InetAddress address) throws IOException {
        AnsweringServer server = AnsweringServer.start(address, "host");
        hostServers.add(server);
        return server.port();
    }

    @AfterAll
    static void stop() throws Exception {
        for (AnsweringServer s : hostServers) {
            s.close();
        }
        if (publicServer != null) {
            publicServer.destroyForcibly();
            publicServer.waitFor();
        }
        if (netns != null) {
            sh("ip", "netns", "del", netns); // takes the veth pair with it
        }
        if (git != null) {
            git.close();
        }
        if (workDir != null) {
            executor.awaitCleanup();
            TestFiles.deleteTree(workDir);
        }
    }

    @Test
    void publicAddressesAreReachableAndTheHostPrivateAndLinkLocalOnesAreNot() throws Exception {
        assertTrue(
                Fixture.sandbox().warnings().stream().noneMatch(w -> w.contains("egress")),
                "egress is possible here: " + Fixture.sandbox().warnings());
        int loopbackPort = hostServer(InetAddress.getLoopbackAddress());
        int hostSidePort = hostServer(InetAddress.getByName(HOST_SIDE));
        String url = git.createRepo("connect-" + UUID.randomUUID(), HostileFunctions.CONNECT);
        List<String> refused = List.of(
                "127.0.0.1:" + loopbackPort,
                "10.0.2.2:" + loopbackPort,
                HOST_SIDE + ":" + hostSidePort,
                "169.254.169.254:80",
                "10.1.2.3:80",
                "192.168.1.1:80");
        List<String> targets = new ArrayList<>(List.of(PUBLIC + ":8080"));
        targets.addAll(refused);
        Execution e = Fixture.execute(executor, url, targets.toArray(String[]::new));
        assertEquals(TaskStatus.FINISHED, e.status(), Fixture.text(e, "error.txt"));
        String out = Fixture.text(e, "stdout.txt");
        assertTrue(out.contains(PUBLIC + ":8080=open\n"), "the public address was not reachable: " + out);
        for (String target : refused) {
            assertTrue(out.contains(target + "=closed\n"), "reached " + target + ": " + out);
            // refused at once, as a closed port is, not left to time out (10.0.2.2 is no route in the namespace)
            assertTrue(target.startsWith("10.0.2.2:") || out.contains(target + ":refused\n"), target + ": " + out);
        }
    }

    @Test
    void withNetworkNoneNotEvenPublicAddressesAreReachable() throws Exception {
        TaskExecutor none = Fixture.executor(Fixture.config(
                NatsSettings.defaults("nats://127.0.0.1:1"),
                workDir.resolve("none"),
                Duration.ofSeconds(20),
                Map.of("FUNCTION_NETWORK", "none")));
        String url = git.createRepo("connect-none-" + UUID.randomUUID(), HostileFunctions.CONNECT);
        Execution e = Fixture.execute(none, url, PUBLIC + ":8080");
        assertEquals(PUBLIC + ":8080=closed\n", Fixture.text(e, "stdout.txt"));
        none.awaitCleanup();
    }

    @Test
    void theFirewallLeavesEveryoneElsesTrafficAlone() throws Exception {
        Fixture.sandbox(); // the egress rules are in place
        int closed;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = probe.getLocalPort();
        }
        // the kernel's own RST for a closed port has no socket, hence no uid: it must not be caught by the rules
        long start = System.nanoTime();
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), closed), 5_000);
            org.junit.jupiter.api.Assertions.fail("a closed port accepted a connection");
        } catch (java.net.ConnectException refused) {
            assertTrue(Duration.ofNanos(System.nanoTime() - start).toMillis() < 1_000, "refused, but slowly");
        }
        int open = hostServer(InetAddress.getLoopbackAddress());
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), open), 2_000);
        }
    }

    @Test
    void aFlushedFirewallIsPutBackAndFunctionsStayFiltered() throws Exception {
        Fixture.sandbox();
        sh("nft", "delete", "table", "inet", "minifaas_egress"); // as `systemctl reload nftables` would
        Poll.until(
                Duration.ofSeconds(10),
                () -> {
                    Process p = new ProcessBuilder("nft", "list", "table", "inet", "minifaas_egress")
                            .redirectErrorStream(true)
                            .start();
                    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                    return p.waitFor() == 0 && out.contains("jump functions");
                },
                back -> back,
                "the worker to put its firewall table back");
        String url = git.createRepo("connect-after-flush-" + UUID.randomUUID(), HostileFunctions.CONNECT);
        Execution e = Fixture.execute(executor, url, "169.254.169.254:80", PUBLIC + ":8080");
        assertEquals(
                "169.254.169.254:80=closed\n169.254.169.254:80:refused\n" + PUBLIC + ":8080=open\n",
                Fixture.text(e, "stdout.txt"),
                Fixture.text(e, "error.txt"));
    }

    /** A repository of {@code files} committed under {@code repos}/{@code name}, for {@link #publicGitServer}. */
    static void commitRepo(Path repos, String name, Map<String, String> files) throws Exception {
        Path repo = Files.createDirectories(repos.resolve(name));
        for (Map.Entry<String, String> f : files.entrySet()) {
            Files.writeString(repo.resolve(f.getKey()), f.getValue());
        }
        sh("git", "-C", repo.toString(), "init", "-q", "-b", "main");
        sh("git", "-C", repo.toString(), "add", "-A");
        sh(
                "git",
                "-C",
                repo.toString(),
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@example.com",
                "commit",
                "-q",
                "-m",
                "x");
    }

    /** A Git server for the repositories under {@code repos} on the "public" host, port 8090, once it answers. */
    static Process publicGitServer(Path repos) throws Exception {
        Process gitServer = new ProcessBuilder(
                        "ip",
                        "netns",
                        "exec",
                        netns,
                        "python3",
                        Path.of("..", "scripts", "git-http-server.py")
                                .toAbsolutePath()
                                .toString(),
                        repos.toString(),
                        "8090",
                        "--host",
                        PUBLIC)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        Poll.until(
                Duration.ofSeconds(20),
                () -> {
                    try (Socket s = new Socket()) {
                        s.connect(new InetSocketAddress(PUBLIC, 8090), 500);
                        return true;
                    } catch (IOException e) {
                        return false;
                    }
                },
                up -> up,
                "the public Git server");
        return gitServer;
    }

    static TaskExecutor strictExecutor(String name) throws Exception {
        return Fixture.executor(Fixture.config(
                NatsSettings.defaults("nats://127.0.0.1:1"),
                workDir.resolve(name),
                Duration.ofSeconds(20),
                Map.of("REPO_ALLOW_PRIVATE_ADDRESSES", "false")));
    }

    @Test
    void withPrivateAddressesRefusedTheCloneItselfGoesThroughEgress() throws Exception {
        Path repos = Files.createTempDirectory(workDir, "public-git-");
        commitRepo(repos, "echo", Functions.ECHO);
        Process gitServer = publicGitServer(repos);
        try {
            TaskExecutor strict = strictExecutor("strict");
            Execution e = Fixture.execute(strict, "http://" + PUBLIC + ":8090/echo", "through egress");
            assertEquals(TaskStatus.FINISHED, e.status(), Fixture.text(e, "error.txt"));
            assertEquals("0:through egress\n", Fixture.text(e, "stdout.txt"));
            strict.awaitCleanup();
        } finally {
            gitServer.destroyForcibly();
            gitServer.waitFor();
        }
    }

    /**
     * Package installs fetch what the repository names (a requirements.txt URL, a package.json tarball URL): with
     * private addresses refused they run on the functions' egress network, so naming the host's loopback or its
     * other addresses reaches nothing.
     */
    @Test
    void packageInstallsCannotReachTheHostOrPrivateAddresses() throws Exception {
        AnsweringServer loopback = AnsweringServer.start(InetAddress.getLoopbackAddress(), "host");
        AnsweringServer hostSide = AnsweringServer.start(InetAddress.getByName(HOST_SIDE), "host");
        hostServers.add(loopback);
        hostServers.add(hostSide);
        Path repos = Files.createTempDirectory(workDir, "public-git-installs-");
        commitRepo(
                repos,
                "pip-loopback",
                Map.of(
                        "main.py",
                        "print('ran')\n",
                        "requirements.txt",
                        "evil @ http://127.0.0.1:" + loopback.port() + "/evil-1.0-py3-none-any.whl\n"));
        commitRepo(
                repos,
                "pip-host",
                Map.of(
                        "main.py",
                        "print('ran')\n",
                        "requirements.txt",
                        "evil @ http://" + HOST_SIDE + ":" + hostSide.port() + "/evil-1.0-py3-none-any.whl\n"));
        commitRepo(
                repos,
                "npm-loopback",
                Map.of(
                        "package.json",
                        "{\"dependencies\": {\"evil\": \"http://127.0.0.1:" + loopback.port() + "/evil.tgz\"}}",
                        "index.js",
                        "console.log('ran')\n"));
        Process gitServer = publicGitServer(repos);
        try {
            TaskExecutor strict = strictExecutor("strict-installs");
            for (String name : List.of("pip-loopback", "pip-host", "npm-loopback")) {
                long started = System.nanoTime();
                Execution e = Fixture.execute(strict, "http://" + PUBLIC + ":8090/" + name);
                long seconds = (System.nanoTime() - started) / 1_000_000_000L;
                // refused fast, not retried for minutes (pip's and npm's own defaults took 8, 90 and 70 s here)
                assertTrue(seconds < 45, name + " took " + seconds + " s to fail");
                assertEquals(TaskStatus.FINISHED_WITH_ERRORS, e.status(), name + ": " + Fixture.text(e, "stdout.txt"));
                assertTrue(
                        Fixture.text(e, "error.txt").contains("install"), name + ": " + Fixture.text(e, "error.txt"));
                assertEquals("", Fixture.text(e, "stdout.txt").contains("ran") ? "ran" : "", name + " ran");
            }
            assertEquals(0, loopback.accepted(), "an install reached the host's loopback");
            assertEquals(0, hostSide.accepted(), "an install reached the host's own address");
            strict.awaitCleanup();
        } finally {
            gitServer.destroyForcibly();
            gitServer.waitFor();
        }
    }

    /**
     * Where there is no egress network (a worker in a container, say) and private addresses are refused, installs run
     * on the host's network: every URL a lockfile or requirements.txt names is checked first, and no install script
     * runs. Naming the host's loopback or its own address is refused before anything is fetched.
     */
    @Test
    void withoutEgressInstallsCheckWhatTheyFetchFirst() throws Exception {
        AnsweringServer loopback = AnsweringServer.start(InetAddress.getLoopbackAddress(), "host");
        AnsweringServer hostSide = AnsweringServer.start(InetAddress.getByName(HOST_SIDE), "host");
        hostServers.add(loopback);
        hostServers.add(hostSide);
        String lock = "{\"name\": \"x\", \"lockfileVersion\": 3, \"requires\": true, \"packages\": {\"\": "
                + "{\"name\": \"x\", \"dependencies\": {\"evil\": \"1.0.0\"}}, \"node_modules/evil\": "
                + "{\"version\": \"1.0.0\", \"resolved\": \"http://127.0.0.1:" + loopback.port() + "/evil.tgz\"}}}";
        Path repos = Files.createTempDirectory(workDir, "public-git-no-egress-");
        commitRepo(
                repos,
                "npm-lockfile-loopback",
                Map.of(
                        "package.json", "{\"name\": \"x\", \"dependencies\": {\"evil\": \"1.0.0\"}}",
                        "package-lock.json", lock,
                        "index.js", "console.log('ran')\n"));
        commitRepo(
                repos,
                "pip-host",
                Map.of(
                        "main.py",
                        "print('ran')\n",
                        "requirements.txt",
                        "--index-url http://localhost:" + loopback.port() + "/simple\nrequests==2.32.3\n"));
        commitRepo(
                repos,
                "npm-git-dependency",
                Map.of(
                        "package.json", "{\"dependencies\": {\"evil\": \"git+ssh://git@198.51.100.1/evil.git\"}}",
                        "index.js", "console.log('ran')\n"));
        Process gitServer = publicGitServer(repos);
        Path state = Files.createTempDirectory(workDir, "no-egress-sandbox-");
        Files.setPosixFilePermissions(state, java.nio.file.attribute.PosixFilePermissions.fromString("rwx--x--x"));
        org.minifaas.worker.sandbox.Sandbox noEgress = org.minifaas.worker.sandbox.BubblewrapSandbox.start(
                state, org.minifaas.worker.sandbox.RunAccount.resolve(Fixture.runAsUser()));
        try {
            TaskExecutor executor = Fixture.executor(
                    Fixture.config(
                            NatsSettings.defaults("nats://127.0.0.1:1"),
                            workDir.resolve("no-egress"),
                            Duration.ofSeconds(20),
                            Map.of("REPO_ALLOW_PRIVATE_ADDRESSES", "false", "FUNCTION_NETWORK", "none")),
                    noEgress);
            Map<String, String> expected = Map.of(
                    "npm-lockfile-loopback", "package-lock.json fetches from 127.0.0.1",
                    "pip-host", "requirements.txt fetches from localhost",
                    "npm-git-dependency", "package.json names a git+ssh URL");
            for (Map.Entry<String, String> c : expected.entrySet()) {
                Execution e = Fixture.execute(executor, "http://" + PUBLIC + ":8090/" + c.getKey());
                assertEquals(TaskStatus.FINISHED_WITH_ERRORS, e.status(), c.getKey());
                assertTrue(Fixture.text(e, "error.txt").startsWith(c.getValue()), Fixture.text(e, "error.txt"));
            }
            assertEquals(0, loopback.accepted(), "an install reached the host's loopback");
            assertEquals(0, hostSide.accepted(), "an install reached the host's own address");
            executor.awaitCleanup();
        } finally {
            noEgress.close();
            gitServer.destroyForcibly();
            gitServer.waitFor();
        }
    }
}
