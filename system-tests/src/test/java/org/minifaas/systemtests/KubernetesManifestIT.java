package org.minifaas.systemtests;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.minifaas.common.config.Env;
import org.minifaas.common.config.NatsSettings;
import org.minifaas.common.nats.TaskQueue;
import org.minifaas.common.ops.LogConfigurator;
import org.minifaas.common.testing.TestFiles;
import org.minifaas.frontend.FrontendConfig;
import org.minifaas.observer.ObserverConfig;
import org.minifaas.worker.WorkerConfig;

/**
 * The Kubernetes deployment (deploy/k8s) as {@code kubectl kustomize} renders it, checked against the code: every
 * service's workload, probes and limits, the KEDA ScaledObject against {@link TaskQueue}'s names, every
 * environment variable against what the services really read, the frontend reachable only through oauth2-proxy,
 * and the worker's sandbox settings. Rendered from a copy of deploy/k8s with secrets.env made from
 * secrets.env.example: what a user applies after {@code cp secrets.env.example secrets.env}.
 *
 * <p>Which variables a service reads is taken from the code itself: its configuration reader runs on an empty
 * environment, and {@link Env#summary()} lists every variable it read (each read records one, defaults or not);
 * the logging level ({@link LogConfigurator#LEVEL_VARIABLE}) is read by the logging set-up. The rendered values are then
 * given to the same reader, which must accept them.
 */
class KubernetesManifestIT {
    static final Path REPO = Path.of("..").toAbsolutePath().normalize();
    static final Path DEPLOY = REPO.resolve("deploy/k8s");
    static final List<String> SERVICES = List.of("frontend", "worker", "observer", "injector");
    /** The ops port of every service (METRICS_PORT): GET /healthz and GET /metrics. */
    static final int OPS_PORT = 9464;

    /**
     * Announced by the "Scale out" issue and set by the manifests, but read by code on another branch until it
     * lands: METRICS_PORT (the ops port). Once the services read it, the check finds it in the code and this set
     * can go.
     */
    static final Set<String> ANNOUNCED = Set.of("METRICS_PORT");

    /** Each service's configuration reader, as its main class calls it. */
    static final Map<String, Consumer<Env>> READERS = Map.of(
            "frontend", FrontendConfig::fromEnv,
            "worker", WorkerConfig::fromEnv,
            "observer", ObserverConfig::fromEnv,
            // InjectorMain reads NatsSettings and nothing else
            "injector", NatsSettings::fromEnv);

    static Path work;
    static List<JsonNode> objects;

    @BeforeAll
    static void render() throws Exception {
        Optional<Path> kubectl = kubectl();
        assumeTrue(kubectl.isPresent(), "kubectl is not installed: nothing to render the manifests with");
        work = Files.createTempDirectory("minifaas-k8s-");
        Path copy = work.resolve("k8s");
        try (Stream<Path> files = Files.walk(DEPLOY)) {
            for (Path from : files.toList()) {
                Path to = copy.resolve(DEPLOY.relativize(from).toString());
                if (Files.isDirectory(from)) {
                    Files.createDirectories(to);
                } else if (!from.getFileName().toString().equals("secrets.env")) {
                    Files.copy(from, to);
                }
            }
        }
        Files.copy(copy.resolve("secrets.env.example"), copy.resolve("secrets.env"));
        Path out = work.resolve("rendered.yaml");
        Path err = work.resolve("kubectl.err");
        Process p = new ProcessBuilder(kubectl.get().toString(), "kustomize", copy.toString())
                .redirectOutput(out.toFile())
                .redirectError(err.toFile())
                .start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("kubectl kustomize did not finish within 120 s");
        }
        assertEquals(0, p.exitValue(), () -> "kubectl kustomize deploy/k8s failed: " + read(err));
        objects = new YAMLMapper()
                .readerFor(JsonNode.class).<JsonNode>readValues(Files.readString(out)).readAll().stream()
                        .filter(n -> n != null && !n.isMissingNode() && !n.isNull())
                        .toList();
        assertFalse(objects.isEmpty(), "kubectl kustomize rendered nothing");
    }

    @AfterAll
    static void cleanUp() throws IOException {
        if (work != null) {
            TestFiles.deleteTree(work);
        }
    }

    @Test
    void everyServiceRunsItsImageWithProbesRequestsAndLimits() {
        for (String service : SERVICES) {
            JsonNode c = container(service);
            String image = c.path("image").asText();
            assertTrue(
                    image.equals("minifaas/" + service) || image.startsWith("minifaas/" + service + ":"),
                    service + " runs " + image);
        }
        // every container of every workload, oauth2-proxy included
        for (JsonNode d : all("Deployment")) {
            for (JsonNode c : d.path("spec").path("template").path("spec").path("containers")) {
                String what = name(d) + "/" + c.path("name").asText();
                assertAll(
                        what,
                        () -> assertTrue(c.has("readinessProbe"), what + " has no readinessProbe"),
                        () -> assertTrue(c.has("livenessProbe"), what + " has no livenessProbe"),
                        () -> assertResources(what, c.path("resources")));
            }
        }
    }

    @Test
    void probesAndScrapingUseTheOpsPortAndTheFrontendsHealthz() {
        JsonNode frontend = container("frontend");
        assertEquals(
                "/healthz",
                frontend.path("readinessProbe").path("httpGet").path("path").asText());
        assertEquals(
                8080,
                port(frontend, frontend.path("readinessProbe").path("httpGet").path("port")));
        for (String service : SERVICES) {
            JsonNode c = container(service);
            if (!service.equals("frontend")) {
                JsonNode get = c.path("readinessProbe").path("httpGet");
                assertEquals("/healthz", get.path("path").asText(), service + " readiness path");
                assertEquals(OPS_PORT, port(c, get.path("port")), service + " readiness port");
                assertEquals(OPS_PORT, port(c, probePort(c.path("livenessProbe"))), service + " liveness port");
            }
            JsonNode annotations = deployment(service)
                    .path("spec")
                    .path("template")
                    .path("metadata")
                    .path("annotations");
            assertEquals("true", annotations.path("prometheus.io/scrape").asText(), service + " scrape");
            assertEquals(
                    String.valueOf(OPS_PORT),
                    annotations.path("prometheus.io/port").asText(),
                    service);
            assertEquals("/metrics", annotations.path("prometheus.io/path").asText(), service);
            assertEquals(String.valueOf(OPS_PORT), environment(service).get("METRICS_PORT"), service);
        }
    }

    @Test
    void kedaScalesTheWorkersOnTheTaskQueuesConsumer() {
        JsonNode scaled = one("ScaledObject", "worker");
        assertEquals("keda.sh/v1alpha1", scaled.path("apiVersion").asText());
        JsonNode target = scaled.path("spec").path("scaleTargetRef");
        assertEquals("Deployment", target.path("kind").asText("Deployment"));
        assertEquals("worker", target.path("name").asText());
        assertNotNull(deployment("worker"));
        assertFalse(
                deployment("worker").path("spec").has("replicas"),
                "the worker Deployment sets replicas: every kubectl apply would undo KEDA's choice");

        JsonNode trigger = only(scaled.path("spec").path("triggers"));
        assertEquals("nats-jetstream", trigger.path("type").asText());
        JsonNode meta = trigger.path("metadata");
        assertEquals(TaskQueue.STREAM, meta.path("stream").asText());
        assertEquals(TaskQueue.CONSUMER, meta.path("consumer").asText());
        assertEquals("$G", meta.path("account").asText());
        assertTrue(meta.path("lagThreshold").asInt(0) >= 1, "lagThreshold " + meta.path("lagThreshold"));
        // the monitoring port of the NATS release's headless Service, which KEDA prefixes with the leader's name
        String namespace = scaled.path("metadata").path("namespace").asText();
        assertEquals(
                "nats-headless." + namespace + ".svc.cluster.local:8222",
                meta.path("natsServerMonitoringEndpoint").asText());

        assertEquals(1, scaled.path("spec").path("minReplicaCount").asInt());
        assertTrue(scaled.path("spec").path("maxReplicaCount").isInt(), "maxReplicaCount must be a number");
        assertEquals(
                environment("observer").get("MAX_WORKERS"),
                scaled.path("spec").path("maxReplicaCount").asText(),
                "maxReplicaCount = the observer's MAX_WORKERS");
        assertEquals("none", environment("observer").get("SCALER"), "KEDA scales: the observer must not");
    }

    @Test
    void everyEnvironmentVariableIsOneTheServiceReadsAndAccepts() throws IOException {
        Set<String> logback = Set.of(LogConfigurator.LEVEL_VARIABLE);
        for (String service : SERVICES) {
            Set<String> read = variablesRead(READERS.get(service));
            Map<String, String> env = environment(service);
            Set<String> unknown = new TreeSet<>(env.keySet());
            unknown.removeAll(read);
            unknown.removeAll(logback);
            unknown.removeAll(ANNOUNCED);
            assertTrue(
                    unknown.isEmpty(),
                    service + " is given variables it never reads: " + unknown + " (it reads " + new TreeSet<>(read)
                            + ")");

            // the NATS cluster, from every service
            List<String> servers =
                    List.of(env.getOrDefault("NATS_SERVER_ADDRESS", "").split(","));
            assertEquals(3, servers.size(), service + " NATS_SERVER_ADDRESS " + servers);
            servers.forEach(s -> assertTrue(s.matches("nats://nats-[0-2]\\.nats-headless:4222"), service + " " + s));
            assertEquals(3, servers.stream().distinct().count(), service + " " + servers);
            assertEquals("3", env.get("NATS_REPLICAS"), service + " NATS_REPLICAS");
            assertEquals("minifaas-secrets", secretOf(service, "NATS_TOKEN"), service + " NATS_TOKEN");

            // the values as rendered (secrets from secrets.env.example) pass the service's own validation
            Env parsed = new Env(env);
            READERS.get(service).accept(parsed);
            parsed.validate();
        }
        assertEquals("minifaas-secrets", secretOf("frontend", "WEBHOOK_SECRET"));
        assertEquals("minifaas-secrets", secretOf("observer", "WEBHOOK_SECRET"));
        assertEquals(
                environment("worker").get("MAX_SECONDS_EXECUTION_PER_REQUEST"),
                environment("frontend").get("MAX_SECONDS_EXECUTION_PER_REQUEST"),
                "the frontend's run limit");
        // oauth2-proxy reads its flags as OAUTH2_PROXY_* variables only
        Map<String, String> proxy = environmentOf(container("oauth2-proxy"));
        proxy.keySet().forEach(n -> assertTrue(n.startsWith("OAUTH2_PROXY_"), "oauth2-proxy is given " + n));
    }

    @Test
    void theFrontendIsReachableOnlyThroughOauth2Proxy() {
        JsonNode service = one("Service", "frontend");
        assertEquals("ClusterIP", service.path("spec").path("type").asText("ClusterIP"));
        for (JsonNode s : all("Service")) {
            String type = s.path("spec").path("type").asText("ClusterIP");
            if (!name(s).equals("oauth2-proxy")) {
                assertEquals("ClusterIP", type, "Service " + name(s) + " is exposed as " + type);
            }
            assertFalse(s.path("spec").has("externalIPs"), "Service " + name(s) + " has externalIPs");
        }
        List<JsonNode> ingresses = all("Ingress");
        assertFalse(ingresses.isEmpty(), "no Ingress: nothing reaches oauth2-proxy from outside");
        for (JsonNode ingress : ingresses) {
            ingress.findValues("service")
                    .forEach(backend -> assertEquals(
                            "oauth2-proxy",
                            backend.path("name").asText(),
                            "Ingress " + name(ingress) + " leads to " + backend));
            assertFalse(
                    ingress.path("spec").has("defaultBackend")
                            && !ingress.path("spec")
                                    .path("defaultBackend")
                                    .path("service")
                                    .path("name")
                                    .asText()
                                    .equals("oauth2-proxy"),
                    "Ingress " + name(ingress) + " has another default backend");
        }
        JsonNode pod = deployment("frontend").path("spec").path("template").path("spec");
        assertFalse(pod.path("hostNetwork").asBoolean(false), "frontend on the host's network");
        pod.findValues("hostPort").forEach(p -> fail("frontend has a hostPort " + p));

        // the network: only oauth2-proxy's pods may open the API port
        List<JsonNode> policies = all("NetworkPolicy").stream()
                .filter(p -> "frontend"
                        .equals(p.path("spec")
                                .path("podSelector")
                                .path("matchLabels")
                                .path("app.kubernetes.io/name")
                                .asText()))
                .toList();
        assertEquals(1, policies.size(), "one NetworkPolicy for the frontend's pods");
        JsonNode policy = policies.get(0).path("spec");
        assertTrue(policy.path("policyTypes").toString().contains("Ingress"));
        int apiRules = 0;
        for (JsonNode rule : policy.path("ingress")) {
            boolean api = !rule.has("ports");
            for (JsonNode p : rule.path("ports")) {
                api |= p.path("port").asText().equals("8080")
                        || p.path("port").asText().equals("http");
            }
            if (api) {
                apiRules++;
                JsonNode from = only(rule.path("from"));
                assertEquals(1, from.size(), "API port rule admits more than a pod selector: " + from);
                assertEquals(
                        "oauth2-proxy",
                        from.path("podSelector")
                                .path("matchLabels")
                                .path("app.kubernetes.io/name")
                                .asText(),
                        "API port admits " + from);
            }
        }
        assertEquals(1, apiRules, "rules admitting the frontend's API port");

        Map<String, String> proxy = environmentOf(container("oauth2-proxy"));
        assertEquals("http://frontend:8080", proxy.get("OAUTH2_PROXY_UPSTREAMS"));
        assertEquals("true", proxy.get("OAUTH2_PROXY_COOKIE_SECURE"), "behind https the cookie must be secure");
        assertEquals("minifaas-secrets", secretOf("oauth2-proxy", "OAUTH2_PROXY_CLIENT_SECRET"));
        assertEquals("minifaas-secrets", secretOf("oauth2-proxy", "OAUTH2_PROXY_COOKIE_SECRET"));
    }

    @Test
    void theWorkerPodCanStartItsSandboxAndNoMore() {
        JsonNode pod = deployment("worker").path("spec").path("template");
        JsonNode seccomp = pod.path("spec").path("securityContext").path("seccompProfile");
        assertEquals("Localhost", seccomp.path("type").asText());
        String profile = seccomp.path("localhostProfile").asText();
        // the profile compose gives the worker, installed on the nodes under the same file name
        assertTrue(
                Files.isRegularFile(
                        REPO.resolve("docker").resolve(Path.of(profile).getFileName())),
                "no docker/" + Path.of(profile).getFileName() + " for localhostProfile " + profile);

        JsonNode worker = container("worker");
        JsonNode sc = worker.path("securityContext");
        assertEquals("Unconfined", sc.path("appArmorProfile").path("type").asText());
        assertEquals(
                "unconfined",
                pod.path("metadata")
                        .path("annotations")
                        .path("container.apparmor.security.beta.kubernetes.io/worker")
                        .asText());
        assertFalse(sc.path("privileged").asBoolean(false), "the worker must not be privileged");
        assertEquals("[\"ALL\"]", sc.path("capabilities").path("drop").toString());
        Set<String> added = new TreeSet<>();
        sc.path("capabilities").path("add").forEach(c -> added.add(c.asText()));
        assertFalse(added.contains("SYS_ADMIN") || added.contains("CAP_SYS_ADMIN"), "SYS_ADMIN added: " + added);
        assertTrue(added.containsAll(Set.of("SETUID", "SETGID")), "setpriv needs SETUID and SETGID: " + added);
        assertFalse("Unmasked".equals(sc.path("procMount").asText()), "an unmasked /proc");
        // root only to switch to the function and build accounts (RUN_AS_USER, BUILD_AS_USER)
        assertEquals(
                0, pod.path("spec").path("securityContext").path("runAsUser").asInt(-1));
        assertEquals("bwrap", environment("worker").get("SANDBOX"));
        assertFalse(
                pod.path("spec").path("hostPID").asBoolean(false)
                        || pod.path("spec").path("hostNetwork").asBoolean(false),
                "the worker shares a host namespace");
    }

    // --- the rendered objects ---

    static List<JsonNode> all(String kind) {
        return objects.stream()
                .filter(o -> kind.equals(o.path("kind").asText()))
                .toList();
    }

    static JsonNode one(String kind, String name) {
        List<JsonNode> found =
                all(kind).stream().filter(o -> name.equals(name(o))).toList();
        assertEquals(1, found.size(), kind + " " + name);
        return found.get(0);
    }

    static String name(JsonNode o) {
        return o.path("metadata").path("name").asText();
    }

    static JsonNode deployment(String name) {
        return one("Deployment", name);
    }

    /** The workload's one container, named after it. */
    static JsonNode container(String name) {
        JsonNode c =
                only(deployment(name).path("spec").path("template").path("spec").path("containers"));
        assertEquals(name, c.path("name").asText());
        return c;
    }

    static JsonNode only(JsonNode array) {
        assertEquals(1, array.size(), "expected one element: " + array);
        return array.get(0);
    }

    static void assertResources(String what, JsonNode resources) {
        for (String level : List.of("requests", "limits")) {
            for (String resource : List.of("cpu", "memory")) {
                assertFalse(
                        resources.path(level).path(resource).asText().isEmpty(),
                        what + " has no " + level + "." + resource);
            }
        }
    }

    static JsonNode probePort(JsonNode probe) {
        return probe.has("httpGet")
                ? probe.path("httpGet").path("port")
                : probe.path("tcpSocket").path("port");
    }

    /** A probe's port, by number or by the name of one of the container's ports. */
    static int port(JsonNode container, JsonNode port) {
        if (port.isInt()) {
            return port.asInt();
        }
        for (JsonNode p : container.path("ports")) {
            if (p.path("name").asText().equals(port.asText())) {
                return p.path("containerPort").asInt();
            }
        }
        throw new AssertionError("no port named " + port + " in " + container.path("name"));
    }

    static Map<String, String> environment(String service) {
        return environmentOf(container(service));
    }

    /**
     * A container's environment as the kubelet would build it: envFrom ConfigMaps and Secrets first, then env
     * (values, ConfigMap and Secret keys; a Secret's value as secrets.env.example has it, decoded).
     */
    static Map<String, String> environmentOf(JsonNode container) {
        Map<String, String> env = new LinkedHashMap<>();
        for (JsonNode from : container.path("envFrom")) {
            if (from.has("configMapRef")) {
                data("ConfigMap", from.path("configMapRef").path("name").asText())
                        .forEach(env::put);
            } else if (from.has("secretRef")) {
                data("Secret", from.path("secretRef").path("name").asText()).forEach(env::put);
            } else {
                fail("envFrom " + from);
            }
        }
        for (JsonNode e : container.path("env")) {
            String name = e.path("name").asText();
            JsonNode ref = e.path("valueFrom");
            if (!e.has("valueFrom")) {
                env.put(name, e.path("value").asText());
            } else if (ref.has("configMapKeyRef")) {
                env.put(name, value("ConfigMap", ref.path("configMapKeyRef")));
            } else if (ref.has("secretKeyRef")) {
                env.put(name, value("Secret", ref.path("secretKeyRef")));
            } else {
                env.put(name, ""); // fieldRef, resourceFieldRef: known only in the cluster
            }
        }
        return env;
    }

    /** The Secret an env entry of the service's container refers to, or null. */
    static String secretOf(String service, String variable) {
        for (JsonNode e : container(service).path("env")) {
            if (e.path("name").asText().equals(variable)) {
                return e.path("valueFrom").path("secretKeyRef").path("name").asText(null);
            }
        }
        return null;
    }

    static String value(String kind, JsonNode ref) {
        Map<String, String> data = data(kind, ref.path("name").asText());
        String key = ref.path("key").asText();
        assertTrue(data.containsKey(key), kind + " " + ref.path("name").asText() + " has no key " + key);
        return data.get(key);
    }

    static Map<String, String> data(String kind, String name) {
        JsonNode o = one(kind, name);
        Map<String, String> data = new LinkedHashMap<>();
        o.path("data")
                .fields()
                .forEachRemaining(f -> data.put(
                        f.getKey(),
                        kind.equals("Secret")
                                ? new String(
                                        Base64.getDecoder().decode(f.getValue().asText()), StandardCharsets.UTF_8)
                                : f.getValue().asText()));
        o.path("stringData")
                .fields()
                .forEachRemaining(f -> data.put(f.getKey(), f.getValue().asText()));
        return data;
    }

    // --- what the code reads ---

    static final Pattern SUMMARY_NAME = Pattern.compile("(?:^| )([A-Z][A-Z0-9_]*)=");

    /** The variables a configuration reader reads: it records each one in {@link Env#summary()}. */
    static Set<String> variablesRead(Consumer<Env> reader) {
        Env env = new Env(Map.of());
        reader.accept(env);
        Set<String> names = new TreeSet<>();
        Matcher m = SUMMARY_NAME.matcher(env.summary());
        while (m.find()) {
            names.add(m.group(1));
        }
        assertTrue(names.contains("NATS_SERVER_ADDRESS"), "no variables found in " + env.summary());
        return names;
    }

    // --- tools ---

    static Optional<Path> kubectl() {
        List<Path> candidates = new ArrayList<>();
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!dir.isEmpty()) {
                candidates.add(Path.of(dir, "kubectl"));
            }
        }
        candidates.add(Path.of("/usr/bin/kubectl"));
        return candidates.stream().filter(Files::isExecutable).findFirst();
    }

    static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            return "(" + e + ")";
        }
    }
}
