package org.minifaas.worker;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
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
    private static final String INSTALL = "/task/install";
    /** In npm's order: a shrinkwrap wins over a package-lock. */
    private static final List<String> LOCKFILES = List.of("npm-shrinkwrap.json", "package-lock.json");
    /** npm's lifecycle scripts of the project itself that an install runs. */
    private static final List<String> INSTALL_SCRIPTS =
            List.of("preinstall", "install", "postinstall", "prepublish", "preprepare", "prepare", "postprepare");

    private static final int MAX_PACKAGE_JSON = 1 << 20;
    private static final int MAX_LOCKFILE = 32 << 20;

    private final Interpreter node;
    private final Interpreter npm;
    private final PackageInstalls installs;

    /**
     * @param installs how installs run; without {@link PackageInstalls#scriptsAllowed} they get {@code --ignore-scripts},
     *                 and every URL the install would fetch is checked against the address policy first
     */
    NodeRuntime(Interpreter node, Interpreter npm, PackageInstalls installs) {
        this.node = node;
        this.npm = npm;
        this.installs = installs;
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
                src, List.of("package.json", "package-lock.json", "npm-shrinkwrap.json", ".npmrc", MODULES));
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
        Optional<byte[]> packageJson = RepositoryFiles.readWhole(src.resolve("package.json"), MAX_PACKAGE_JSON);
        if (packageJson.isEmpty()) {
            return Plan.failed(NAME, "package.json is larger than " + (MAX_PACKAGE_JSON >> 20) + " MiB: refused");
        }
        JsonNode pkg;
        try {
            pkg = Json.MAPPER.readTree(packageJson.get());
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
        if (!npm.installed()) {
            return Plan.failed(NAME, "package.json has dependencies, but npm is not installed on this worker");
        }
        if (!installs.scriptsAllowed()) {
            for (String name : List.of("package.json", "npm-shrinkwrap.json", "package-lock.json")) {
                Optional<String> refused = InstallSources.refusal(
                        installs.policy(),
                        name,
                        new String(RepositoryFiles.read(src.resolve(name), MAX_LOCKFILE), UTF_8));
                if (refused.isPresent()) {
                    return Plan.failed(NAME, refused.get());
                }
            }
        }
        if (installsWithTheRepository(src, pkg)) {
            // install scripts of the project itself, or a native addon of its own: the install needs the repository,
            // and changes its files, which no cache holds; it runs every time, in the task's own source
            return new Plan(NAME, node.label(), CacheKeys.of("uncached", treeId, node.label()), null, false);
        }
        Optional<String> lockfile = lockfile(src);
        byte[] locked = new byte[0];
        if (lockfile.isPresent()) {
            Optional<byte[]> whole = RepositoryFiles.readWhole(src.resolve(lockfile.get()), MAX_LOCKFILE);
            if (whole.isEmpty()) {
                return Plan.failed(NAME, lockfile.get() + " is larger than " + (MAX_LOCKFILE >> 20) + " MiB: refused");
            }
            locked = whole.get();
        }
        // everything the install reads: it runs in a directory holding only these two files
        String key = CacheKeys.of(
                locked,
                NAME,
                node.label(),
                npm.label(),
                lockfile.orElse("no lockfile"),
                CacheKeys.of(packageJson.get()),
                "--omit=dev",
                installs.scriptsAllowed() ? "scripts" : "--ignore-scripts");
        return new Plan(NAME, node.label(), key, null);
    }

    @Override
    public Prepared prepare(Plan plan, Path taskDir, OutputListener output, Cancellation cancellation)
            throws IOException, InterruptedException {
        Path src = taskDir.resolve("src");
        Optional<Path> cached = plan.cacheable() ? installs.cache().get(plan.artifactKey()) : Optional.empty();
        if (cached.isPresent()) {
            // the mount point of the cached tree (plan refused a node_modules that is not a directory)
            Files.createDirectories(src.resolve(MODULES));
            return new Prepared(cached.get(), true, null);
        }
        Path dir;
        if (plan.cacheable()) {
            // a directory of the install's own with copies of package.json and the lockfile, and nothing else of the
            // repository (no .npmrc, no node_modules, no other file a script could read): what is cached under the key
            // is what those two files install
            dir = TaskWorkspace.directoryOf(
                    taskDir.resolve("install"), installs.step().account());
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx--x--x"));
            List<String> inputs = new ArrayList<>(List.of("package.json"));
            lockfile(src).ifPresent(inputs::add);
            for (String name : inputs) {
                Path copy = dir.resolve(name);
                Files.write(copy, RepositoryFiles.read(src.resolve(name), MAX_LOCKFILE));
                TaskWorkspace.handOver(copy, installs.step().account());
            }
            Files.createDirectories(src.resolve(MODULES)); // the mount point of the installed tree
        } else {
            dir = src;
            TaskWorkspace.handOver(src, installs.step().account());
        }
        String command = lockfile(dir).isPresent() ? "ci" : "install";
        Map<String, String> env = new LinkedHashMap<>();
        env.put("PATH", "/usr/local/bin:/usr/bin:/bin");
        env.put("HOME", "/tmp");
        env.put("TMPDIR", "/tmp");
        env.put("LANG", "C.UTF-8");
        env.put("npm_config_cache", "/tmp/npm-cache"); // private to this install: nothing shared between tasks
        env.put("npm_config_update_notifier", "false");
        env.put("npm_config_fund", "false");
        env.put("npm_config_audit", "false");
        env.put("npm_config_userconfig", "/tmp/npmrc"); // no user config
        // an address it cannot reach fails the install in seconds, not minutes (npm's defaults: 2 retries waiting
        // 10 to 60 s, 5 minutes per request; 2 minutes is still a large tarball on a slow link)
        env.put("npm_config_fetch_retries", "1");
        env.put("npm_config_fetch_retry_mintimeout", "1000");
        env.put("npm_config_fetch_retry_maxtimeout", "5000");
        env.put("npm_config_fetch_timeout", "120000");
        List<String> argv = new ArrayList<>(List.of(npm.command(), command, "--omit=dev", "--no-audit", "--no-fund"));
        if (!installs.scriptsAllowed()) {
            argv.add("--ignore-scripts"); // the host's network: no code of the repository's choosing runs on it
        }
        String workDir = plan.cacheable() ? INSTALL : SRC;
        Outcome install = installs.step()
                .runWithin(
                        dir,
                        argv,
                        List.of(Mount.writable(dir, workDir)),
                        workDir,
                        env,
                        installs.step().network(),
                        output,
                        cancellation);
        if (install.cancelled()) {
            return Prepared.failed(Execution.cancelled(install.stdout(), install.stderr()));
        }
        Optional<String> failed = installs.step().failure("npm " + command, install);
        if (failed.isPresent()) {
            return Prepared.failed(Execution.failed(install.stdout(), install.stderr(), failed.get()));
        }
        Path modules = dir.resolve(MODULES);
        if (!Files.isDirectory(modules, LinkOption.NOFOLLOW_LINKS)) {
            return Prepared.failed(Execution.failed(
                    install.stdout(), install.stderr(), "npm " + command + " left no node_modules directory"));
        }
        // the install's sandbox has ended: nothing changes the tree while the worker copies it
        Optional<Path> kept = plan.cacheable() ? installs.cache().put(plan.artifactKey(), modules) : Optional.empty();
        return new Prepared(kept.orElse(modules), false, null);
    }

    @Override
    public Optional<Path> cached(String artifactKey) {
        return installs.cache().get(artifactKey);
    }

    @Override
    public Launch launch(Path src, Optional<Path> artifact) throws IOException {
        JsonNode pkg = Json.MAPPER.readTree(read(src.resolve("package.json")));
        Entry entry = entry(src, pkg);
        if (entry.problem().isPresent()) {
            throw new IOException(entry.problem().get() + " (package.json changed by an install script)");
        }
        List<Mount> mounts = new ArrayList<>();
        // over the function's own node_modules (an empty directory in a kept commit's copy)
        artifact.filter(a -> !a.equals(src.resolve(MODULES)))
                .ifPresent(a -> mounts.add(Mount.readOnly(a, SRC + "/" + MODULES)));
        return new Launch(List.of(node.command(), entry.path()), mounts, Map.of());
    }

    @Override
    public Set<String> mountPoints() {
        return Set.of(MODULES);
    }

    @Override
    public String describe() {
        return "Node.js: "
                + (node.installed()
                        ? node.label() + " (" + node.command() + "), " + (npm.installed() ? npm.label() : "no npm")
                        : "none")
                + (installs.scriptsAllowed() ? "" : ", install scripts off (no egress network)");
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
        Path resolved;
        try {
            resolved = src.resolve(name).normalize();
        } catch (java.nio.file.InvalidPathException e) {
            return new Entry(null, Optional.of("package.json's main is not a file name"));
        }
        if (resolved.equals(src)) {
            return entry(src, Json.MAPPER.createObjectNode()); // "." is the repository itself: its index.js
        }
        if (Path.of(name).isAbsolute() || !resolved.startsWith(src) || name.contains("\\")) {
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

    /**
     * Whether the install needs the repository: package.json has lifecycle scripts npm runs for the project itself
     * on install, or the repository has a binding.gyp (npm then runs node-gyp on it).
     */
    private static boolean installsWithTheRepository(Path src, JsonNode pkg) {
        if (Files.exists(src.resolve("binding.gyp"), LinkOption.NOFOLLOW_LINKS)) {
            return true;
        }
        JsonNode scripts = pkg.get("scripts");
        return scripts != null && scripts.isObject() && INSTALL_SCRIPTS.stream().anyMatch(scripts::has);
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
