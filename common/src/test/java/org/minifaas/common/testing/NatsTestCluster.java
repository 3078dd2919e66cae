package org.minifaas.common.testing;

import io.nats.client.Connection;
import io.nats.client.Nats;
import io.nats.client.Options;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.minifaas.common.config.NatsSettings;

/**
 * Real nats-server processes on loopback forming one JetStream cluster (server names n1, n2, ...), each with its
 * own store; any of them can be killed with SIGKILL and restarted on the same ports and store, as a node that died.
 */
public final class NatsTestCluster implements AutoCloseable {
    private final Path root;
    private final List<Node> nodes;

    /** One server of the cluster. */
    public static final class Node {
        private final String name;
        private final int clientPort;
        private final Path config;
        private final Path log;
        private Process process;

        private Node(String name, int clientPort, Path config, Path log) {
            this.name = name;
            this.clientPort = clientPort;
            this.config = config;
            this.log = log;
        }

        public String name() {
            return name;
        }

        public String url() {
            return "nats://127.0.0.1:" + clientPort;
        }

        public boolean isAlive() {
            return process != null && process.isAlive();
        }

        private synchronized void start() throws IOException {
            process = new ProcessBuilder("nats-server", "-c", config.toString())
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .start();
        }

        /** SIGKILL: no flush, no goodbye to its peers or clients. */
        public synchronized void kill() throws InterruptedException {
            process.destroyForcibly();
            process.waitFor();
        }

        /** Starts it again on the same ports and store (after {@link #kill}). */
        public void restart() throws IOException {
            start();
        }
    }

    private NatsTestCluster(Path root, List<Node> nodes) {
        this.root = root;
        this.nodes = nodes;
    }

    /** {@code size} servers in one cluster, started, with a JetStream meta leader elected. */
    public static NatsTestCluster start(int size) throws IOException, InterruptedException {
        return start(size, size);
    }

    /**
     * {@code size} servers configured in one cluster, the first {@code running} of them started (a cluster still
     * forming), with a JetStream meta leader elected; the others start with {@link Node#restart}.
     */
    public static NatsTestCluster start(int size, int running) throws IOException, InterruptedException {
        Path root = Files.createTempDirectory("minifaas-nats-cluster-");
        int[] clientPorts = new int[size];
        int[] routePorts = new int[size];
        for (int i = 0; i < size; i++) {
            clientPorts[i] = freePort();
            routePorts[i] = freePort();
        }
        String routes = java.util.stream.IntStream.of(routePorts)
                .mapToObj(p -> "nats-route://127.0.0.1:" + p)
                .collect(Collectors.joining(", "));
        List<Node> nodes = new ArrayList<>();
        for (int i = 0; i < size; i++) {
            String name = "n" + (i + 1);
            Path store = Files.createDirectories(root.resolve(name));
            Path config = root.resolve(name + ".conf");
            Files.writeString(
                    config,
                    String.join(
                            "\n",
                            "server_name: " + name,
                            "listen: 127.0.0.1:" + clientPorts[i],
                            "jetstream { store_dir: \"" + store + "\" }",
                            "cluster {",
                            "  name: minifaas-test",
                            "  listen: 127.0.0.1:" + routePorts[i],
                            "  routes: [" + routes + "]",
                            "}",
                            ""));
            nodes.add(new Node(name, clientPorts[i], config, root.resolve(name + ".log")));
        }
        NatsTestCluster cluster = new NatsTestCluster(root, nodes);
        try {
            for (Node n : nodes.subList(0, running)) {
                n.start();
            }
            cluster.awaitJetStream(Duration.ofSeconds(60));
        } catch (IOException | RuntimeException e) {
            cluster.close();
            throw e;
        }
        return cluster;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** Waits until a JetStream API call succeeds through the cluster (a meta leader exists). */
    public void awaitJetStream(Duration within) throws IOException {
        Options options = new Options.Builder()
                .servers(urls().split(","))
                .connectionTimeout(Duration.ofSeconds(2))
                .maxReconnects(0)
                .build();
        try {
            Poll.until(
                    within,
                    () -> {
                        try (Connection c = Nats.connect(options)) {
                            return c.jetStreamManagement().getAccountStatistics() != null;
                        } catch (Exception e) {
                            return false;
                        }
                    },
                    ready -> ready,
                    "a JetStream meta leader in the cluster");
        } catch (Exception e) {
            throw new IOException("the NATS cluster did not come up (logs in " + root + ")", e);
        }
    }

    public List<Node> nodes() {
        return nodes;
    }

    public Node node(String name) {
        return nodes.stream()
                .filter(n -> n.name.equals(name))
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no node " + name));
    }

    /** Every server's client URL, comma-separated, as NATS_SERVER_ADDRESS takes them. */
    public String urls() {
        return nodes.stream().map(Node::url).collect(Collectors.joining(","));
    }

    /** Defaults for every server of the cluster, with {@code replicas} copies of everything. */
    public NatsSettings settings(int replicas) {
        return NatsSettings.defaults(urls()).withReplicas(replicas);
    }

    @Override
    public void close() throws InterruptedException, IOException {
        for (Node n : nodes) {
            if (n.process != null) {
                n.kill();
            }
        }
        TestFiles.deleteTree(root);
    }
}
