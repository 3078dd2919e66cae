package org.minifaas.systemtests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.nats.client.Connection;
import io.nats.client.JetStreamManagement;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import io.nats.client.api.StreamInfo;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.minifaas.common.testing.Poll;
import org.minifaas.common.testing.TestFiles;

/**
 * docker/nats-cluster.conf, the configuration of docker-compose.cluster.yml's three NATS nodes, run for real: three
 * nats-server processes on loopback, each with the file and the environment compose gives it (server name, token,
 * route password, the three route URLs), must form one JetStream cluster. The copy each node runs differs from the
 * file only where it listens and stores (the container's fixed ports and /data become free loopback ports and a
 * temporary folder); each of those lines must be in the file exactly once, so a changed file fails here.
 */
class NatsClusterConfigIT {
    static final Path CONF =
            Path.of("..", "docker", "nats-cluster.conf").toAbsolutePath().normalize();
    static final String TOKEN = "cluster-test-token";
    static final String ROUTE_PASSWORD = "routepassword0";
    static final Duration DEADLINE = Duration.ofSeconds(30);

    final ObjectMapper json = new ObjectMapper();
    final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    final List<Node> nodes = new ArrayList<>();
    Path work;

    record Node(String name, int clientPort, int clusterPort, int monitorPort, Path dir, Process process) {
        String url() {
            return "nats://127.0.0.1:" + clientPort;
        }
    }

    @BeforeEach
    void startThreeNodes() throws Exception {
        work = Files.createTempDirectory("minifaas-nats-cluster-");
        String conf = Files.readString(CONF);
        int[] ports = freePorts(9);
        List<String> routes = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            routes.add("nats-route://route:" + ROUTE_PASSWORD + "@127.0.0.1:" + ports[3 * i + 1]);
        }
        for (int i = 0; i < 3; i++) {
            String name = "nats-" + (i + 1);
            Path dir = Files.createDirectories(work.resolve(name));
            int client = ports[3 * i];
            int cluster = ports[3 * i + 1];
            int monitor = ports[3 * i + 2];
            String adapted = conf;
            adapted = replaceOnce(adapted, "listen: \"0.0.0.0:4222\"", "listen: \"127.0.0.1:" + client + "\"");
            adapted = replaceOnce(adapted, "http: \"127.0.0.1:8222\"", "http: \"127.0.0.1:" + monitor + "\"");
            adapted = replaceOnce(adapted, "listen: \"0.0.0.0:6222\"", "listen: \"127.0.0.1:" + cluster + "\"");
            adapted = replaceOnce(adapted, "store_dir: \"/data\"", "store_dir: \"" + dir.resolve("data") + "\"");
            Path file = dir.resolve("nats.conf");
            Files.writeString(file, adapted);
            ProcessBuilder pb = new ProcessBuilder("nats-server", "-c", file.toString())
                    .redirectErrorStream(true)
                    .redirectOutput(dir.resolve("server.log").toFile());
            // the environment docker-compose.cluster.yml gives each node
            Map<String, String> env = pb.environment();
            env.put("NATS_SERVER_NAME", name);
            env.put("NATS_TOKEN", TOKEN);
            env.put("NATS_CLUSTER_PASSWORD", ROUTE_PASSWORD);
            for (int r = 0; r < 3; r++) {
                env.put("NATS_ROUTE_" + (r + 1), routes.get(r));
            }
            nodes.add(new Node(name, client, cluster, monitor, dir, pb.start()));
        }
    }

    @AfterEach
    void stopEveryNode() throws Exception {
        try {
            for (Node n : nodes) {
                n.process().destroy();
            }
            for (Node n : nodes) {
                if (!n.process().waitFor(10, TimeUnit.SECONDS)) {
                    n.process().destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            }
            for (Node n : nodes) {
                assertFalse(n.process().isAlive(), n.name() + " still runs");
                String conf = n.dir().resolve("nats.conf").toString();
                assertTrue(
                        ProcessHandle.allProcesses()
                                .noneMatch(
                                        p -> p.info().commandLine().orElse("").contains(conf)),
                        "a nats-server of " + n.name() + " is left running");
            }
        } finally {
            TestFiles.deleteTree(work);
        }
    }

    @Test
    void threeNodesFormOneJetStreamClusterWithAMetaLeader() throws Exception {
        for (Node n : nodes) {
            JsonNode meta = Poll.until(
                    DEADLINE,
                    () -> jsz(n),
                    m -> m != null
                            && !m.path("leader").asText().isEmpty()
                            && m.path("cluster_size").asInt() == 3,
                    n.name() + "'s /jsz naming a meta leader of 3 (log: "
                            + n.dir().resolve("server.log") + ")");
            assertEquals("minifaas", meta.path("name").asText());
            JsonNode routez = json.readTree(get(n, "/routez"));
            assertEquals(2, routez.path("num_routes").asInt(), n.name() + " routes: " + routez);
        }
        // every node names the same leader, which lists the two others as current peers
        List<String> leaders = new ArrayList<>();
        for (Node n : nodes) {
            leaders.add(jsz(n).path("leader").asText());
        }
        assertEquals(1, leaders.stream().distinct().count(), "the nodes disagree on the meta leader: " + leaders);
        Node leader = nodes.stream()
                .filter(n -> n.name().equals(leaders.get(0)))
                .findFirst()
                .orElseThrow();
        JsonNode peers = Poll.until(
                DEADLINE,
                () -> jsz(leader).path("replicas"),
                r -> r.size() == 2 && r.findValues("current").stream().allMatch(JsonNode::asBoolean),
                "the meta leader " + leader.name() + " listing two current peers");
        for (JsonNode peer : peers) {
            assertTrue(peer.path("name").asText().matches("nats-[123]"), "peer " + peer);
        }
    }

    @Test
    void aStreamWithThreeReplicasTakesMessagesAndClientsNeedTheToken() throws Exception {
        for (Node n : nodes) {
            Poll.until(
                    DEADLINE,
                    () -> jsz(n),
                    m -> m != null && !m.path("leader").asText().isEmpty(),
                    n.name() + " knowing a meta leader");
        }
        Options options = new Options.Builder()
                .servers(nodes.stream().map(Node::url).toArray(String[]::new))
                .token(TOKEN.toCharArray())
                .connectionTimeout(Duration.ofSeconds(5))
                .build();
        try (Connection nc = Nats.connect(options)) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            StreamInfo info = jsm.addStream(StreamConfiguration.builder()
                    .name("CLUSTER_PROBE")
                    .subjects("cluster_probe")
                    .storageType(StorageType.File)
                    .replicas(3)
                    .build());
            assertEquals(3, info.getConfiguration().getReplicas());
            nc.jetStream().publish("cluster_probe", "hello".getBytes(StandardCharsets.UTF_8));
            StreamInfo after = Poll.until(
                    DEADLINE,
                    () -> jsm.getStreamInfo("CLUSTER_PROBE"),
                    i -> i.getClusterInfo() != null
                            && i.getClusterInfo().getLeader() != null
                            && i.getClusterInfo().getReplicas() != null
                            && i.getClusterInfo().getReplicas().size() == 2
                            && i.getClusterInfo().getReplicas().stream().allMatch(r -> r.isCurrent()),
                    "the stream's leader and two current replicas");
            assertEquals(1, after.getStreamState().getMsgCount());
        }
        // without the token on the client port, or the password on the route port, every node says no
        for (Node n : nodes) {
            assertEquals("-ERR 'Authorization Violation'", connectWithout(n.clientPort()), n.name() + " client port");
            assertEquals("-ERR 'Authorization Violation'", connectWithout(n.clusterPort()), n.name() + " route port");
        }
    }

    /** Speaks the NATS protocol without credentials: the server's answer to CONNECT and PING. */
    static String connectWithout(int port) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(5000);
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
            String info = in.readLine();
            assertTrue(
                    info != null && info.startsWith("INFO ") && info.contains("\"auth_required\":true"),
                    "port " + port + " does not ask for credentials: " + info);
            s.getOutputStream().write("CONNECT {\"verbose\":false}\r\nPING\r\n".getBytes(StandardCharsets.UTF_8));
            s.getOutputStream().flush();
            return in.readLine();
        }
    }

    /** The node's JetStream meta cluster from /jsz, or null while it does not answer. */
    JsonNode jsz(Node n) throws Exception {
        String body = get(n, "/jsz");
        return body == null ? null : json.readTree(body).path("meta_cluster");
    }

    String get(Node n, String path) throws Exception {
        try {
            HttpResponse<String> r = http.send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + n.monitorPort() + path))
                            .timeout(Duration.ofSeconds(2))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 ? r.body() : null;
        } catch (IOException e) {
            assertTrue(
                    n.process().isAlive(),
                    n.name() + " exited: " + Files.readString(n.dir().resolve("server.log")));
            return null;
        }
    }

    static String replaceOnce(String text, String line, String replacement) {
        int first = text.indexOf(line);
        assertTrue(
                first >= 0 && text.indexOf(line, first + 1) < 0,
                "docker/nats-cluster.conf must contain `" + line + "` exactly once");
        return text.replace(line, replacement);
    }

    static int[] freePorts(int count) throws IOException {
        List<ServerSocket> sockets = new ArrayList<>();
        try {
            int[] ports = new int[count];
            for (int i = 0; i < count; i++) {
                ServerSocket s = new ServerSocket(0);
                sockets.add(s);
                ports[i] = s.getLocalPort();
            }
            return ports;
        } finally {
            for (ServerSocket s : sockets) {
                s.close();
            }
        }
    }
}
