package org.minifaas.worker;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.minifaas.common.Json;
import org.minifaas.worker.sandbox.Cancellation;
import org.minifaas.worker.sandbox.Mount;
import org.minifaas.worker.sandbox.Outcome;
import org.minifaas.worker.sandbox.OutputListener;

/**
 * Node.js functions: a repository with {@code package.json} in its root, run as {@code node <main> <parameters>}
 * ({@code main} of package.json, else index.js). When package.json has dependencies, {@code npm ci} (with a
 * package-lock.json or npm-shrinkwrap.json) or {@code npm install} installs them first, {@code --omit=dev}, in a
 * sandbox like a clone's (its network and account, the build's limits), with a private npm cache in its own /tmp:
 * install scripts see only the task's source. The installed node_modules is kept by the hash of the lockfile (else
 * package.json's dependencies) and the Node.js version ({@link DependencyCache}) and mounted read-only over the
 * function's node_modules; a package.json with install scripts of its own (postinstall, prepare...) installs every
 * time, since those scripts change the repository's files, which no cache holds.
 */
final class NodeRuntime implements FunctionRuntime {
    static final String NAME = "node";
    private static final String SRC = GoBuilder.SRC;
    static final String MODULES = "node_modules";
    private static final List<String> LOCKFILES = List.of("package-lock.json", "npm-shrinkwrap.json");

    private final Interpreter node;
    private final String npm;
    private final BuildStep installs;
    private final DependencyCache cache;

    NodeRuntime(Interpreter node, String npm, BuildStep installs, DependencyCache cache) {
        this.node = node;
        this.npm = npm;
        this.installs = installs;
        this.cache = cache;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String marker() {
        return "package.json";
    }

    @Override
    public Plan plan(Path src, String treeId) throws IOException {
        Optional<String> link = RepositoryFiles.linkRefused(
                src, List.of("package.json", "package-lock.json", "npm-shrinkwrap.json", MODULES));
        if (link.isPresent()) {
            return Plan.failed(NAME, link.get());
        }
        if (!Files.isRegularFile(src.resolve("package.json"), LinkOption.NOFOLLOW_LINKS)) {
            return Plan.failed(NAME, "no package.json in the repository root");
        }
        if (Files.exists(src.resolve(MODULES), LinkOption.NOFOLLOW_LINKS)
                && !Files.isDirectory(src.resolve(MODULES), LinkOption.NOFOLLOW_LINKS)) {
            return Plan.failed(NAME, "node_modules is not a directory: refused");
        }
        if (!node.installed()) {
            return Plan.failed(NAME, "Node.js is not installed on this worker (" + node.command() + ")");
        }
        byte[] packageJson = read(src.resolve("package.json"));
        JsonNode pkg;
        try {
            pkg = Json.MAPPER.readTree(packageJson);
        } catch (IOException e) {
            return Plan.failed(NAME, "package.json is not valid JSON: " + firstLine(e.getMessage()));
        }
        if (pkg == null || !pkg.isObject()) {
            return Plan.failed(NAME, "package.json is not a JSON object");
        }
        Optional<String> entryProblem = entry(src, pkg).problem();
        if (entryProblem.isPresent()) {
            return Plan.failed(NAME, entryProblem.get());
        }
        if (!hasDependencies(pkg)) {
            return new Plan(NAME, node.label(), null, null);
        }
        if (hasInstallScripts(pkg)) {
            // they change the repository's own files, which no cache has: the install runs every time
            return new Plan(NAME, node.label(), CacheKeys.of("uncached", treeId, node.label()), null, false);
        }
        Optional<String> lockfile = lockfile(src);
        byte[] locked = lockfile.isPresent() ? read(src.resolve(lockfile.get())) : new byte[0];
        String key = CacheKeys.of(
                locked,
                NAME,
                node.label(),
                lockfile.orElse("no lockfile"),
                String.valueOf(pkg.get("dependencies")),
                String.valueOf(pkg.get("optionalDependencies")),
                "--omit=dev");
        return new Plan(NAME, node.label(), key, null);
    }

    @Override
    public Prepared prepare(Plan plan, Path taskDir, OutputListener output, Cancellation cancellation)
            throws IOException, InterruptedException {
        Path src = taskDir.resolve("src");
        Optional<Path> cached = plan.cacheable() ? cache.get(plan.artifactKey()) : Optional.empty();
        if (cached.isPresent()) {
            // the mount point of the cached tree (plan refused a node_modules that is not a directory)
            Files.createDirectories(src.resolve(MODULES));
            return new Prepared(cached.get(), true, null);
        }
        TaskWorkspace.handOver(src, installs.account());
        String command = lockfile(src).isPresent() ? "ci" : "install";
        Map<String, String> env = new LinkedHashMap<>();
        env.put("PATH", "/usr/local/bin:/usr/bin:/bin");
        env.put("HOME", "/tmp");
        env.put("TMPDIR", "/tmp");
        env.put("LANG", "C.UTF-8");
        env.put("npm_config_cache", "/tmp/npm-cache"); // private to this install: nothing shared between tasks
        env.put("npm_config_update_notifier", "false");
        env.put("npm_config_fund", "false");
        env.put("npm_config_audit", "false");
        env.put("npm_config_userconfig", "/tmp/npmrc"); // no user config but the project's own .npmrc
        Outcome install = installs.run(
                List.of(npm, command, "--omit=dev", "--no-audit", "--no-fund"),
                List.of(Mount.writable(src, SRC)),
                SRC,
                env,
                installs.network(),
                output,
                cancellation);
        if (install.cancelled()) {
            return Prepared.failed(Execution.cancelled(install.stdout(), install.stderr()));
        }
        Optional<String> failed = installs.failure("npm " + command, install);
        if (failed.isPresent()) {
            return Prepared.failed(Execution.failed(install.stdout(), install.stderr(), failed.get()));
        }
        Path modules = src.resolve(MODULES);
        if (!Files.isDirectory(modules, LinkOption.NOFOLLOW_LINKS)) {
            return Prepared.failed(Execution.failed(
                    install.stdout(), install.stderr(), "npm " + command + " left no node_modules directory"));
        }
        // the install's sandbox has ended: nothing changes the tree while the worker copies it
        Optional<Path> kept = plan.cacheable() ? cache.put(plan.artifactKey(), modules) : Optional.empty();
        return new Prepared(kept.orElse(modules), false, null);
    }

    @Override
    public Optional<Path> cached(String artifactKey) {
        return cache.get(artifactKey);
    }

    @Override
    public Launch launch(Path src, Optional<Path> artifact) throws IOException {
        JsonNode pkg = Json.MAPPER.readTree(read(src.resolve("package.json")));
        List<Mount> mounts = new ArrayList<>();
        // over the function's own node_modules (an empty directory in a kept commit's copy)
        artifact.filter(a -> !a.equals(src.resolve(MODULES)))
                .ifPresent(a -> mounts.add(Mount.readOnly(a, SRC + "/" + MODULES)));
        return new Launch(List.of(node.command(), entry(src, pkg).path()), mounts, Map.of());
    }

    @Override
    public Set<String> mountPoints() {
        return Set.of(MODULES);
    }

    @Override
    public String describe() {
        return "Node.js: " + (node.installed() ? node.label() + " (" + node.command() + ", " + npm + ")" : "none");
    }

    /** The file node runs, as given to it ("./" + main), or why it is not in the repository. */
    record Entry(String path, Optional<String> problem) {}

    static Entry entry(Path src, JsonNode pkg) {
        JsonNode main = pkg.get("main");
        if (main == null || main.isNull()) {
            return regular(src, "index.js")
                    ? new Entry("./index.js", Optional.empty())
                    : new Entry(
                            null, Optional.of("no index.js in the repository root, and package.json names no main"));
        }
        if (!main.isTextual() || main.asText().isBlank()) {
            return new Entry(null, Optional.of("package.json's main must be a non-empty string"));
        }
        String name = main.asText().strip();
        Path resolved = src.resolve(name).normalize();
        if (Path.of(name).isAbsolute() || !resolved.startsWith(src) || resolved.equals(src) || name.contains("\\")) {
            return new Entry(
                    null, Optional.of("package.json's main '" + name + "' is outside the repository: refused"));
        }
        String relative = src.relativize(resolved).toString();
        // node's own lookup for a main: the file, then with .js, then index.js in it as a directory
        for (String candidate : List.of(relative, relative + ".js", relative + "/index.js")) {
            if (regular(src, candidate)) {
                return new Entry("./" + relative, Optional.empty());
            }
        }
        return new Entry(null, Optional.of("package.json's main '" + name + "' is not a file in the repository"));
    }

    /** A regular file at {@code relative} under {@code src}, no link on the way. */
    private static boolean regular(Path src, String relative) {
        Path p = src;
        for (Path part : Path.of(relative)) {
            p = p.resolve(part);
            if (Files.isSymbolicLink(p)) {
                return false;
            }
        }
        return Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS);
    }

    /** Whether package.json has scripts npm runs for the project itself on install. */
    private static boolean hasInstallScripts(JsonNode pkg) {
        JsonNode scripts = pkg.get("scripts");
        if (scripts == null || !scripts.isObject()) {
            return false;
        }
        for (String name : List.of("preinstall", "install", "postinstall", "prepare", "preprepare", "postprepare")) {
            if (scripts.has(name)) {
                return true;
            }
        }
        return false;
    }

    private static boolean hasDependencies(JsonNode pkg) {
        for (String field : List.of("dependencies", "optionalDependencies")) {
            JsonNode deps = pkg.get(field);
            if (deps != null && deps.isObject() && deps.size() > 0) {
                return true;
            }
        }
        return false;
    }

    private static Optional<String> lockfile(Path src) {
        return LOCKFILES.stream()
                .filter(name -> Files.isRegularFile(src.resolve(name), LinkOption.NOFOLLOW_LINKS))
                .findFirst();
    }

    /** At most 16 MiB: lockfiles are large. */
    private static byte[] read(Path file) throws IOException {
        return RepositoryFiles.read(file, 16 << 20);
    }

    private static String firstLine(String s) {
        return s == null ? "" : s.lines().findFirst().orElse("").replace(StandardCharsets.UTF_8.name(), "");
    }
}
