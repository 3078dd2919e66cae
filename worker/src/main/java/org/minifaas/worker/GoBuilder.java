package org.minifaas.worker;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.minifaas.worker.sandbox.Cancellation;
import org.minifaas.worker.sandbox.Mount;
import org.minifaas.worker.sandbox.Network;
import org.minifaas.worker.sandbox.Outcome;
import org.minifaas.worker.sandbox.OutputListener;
import org.minifaas.worker.sandbox.RunAccount;
import org.minifaas.worker.sandbox.Sandbox;
import org.minifaas.worker.sandbox.SandboxCommand;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Compiles a task's {@code main.go}, each step in a sandbox of its own as the build account:
 * {@code go mod download} (only when go.mod requires modules; the one step with the host's network, for the
 * module proxy), then {@code go build} with no network. The shared build cache is read-only to user builds
 * (only {@link #warm} fills it, with the worker's own program); the module cache is writable during the
 * download only. cgo is off unless FUNCTION_CGO=1. Compiling first and running the binary ourselves is what
 * {@code go run} does internally, and gives the function's own exit code.
 */
final class GoBuilder {
    private static final Logger log = LoggerFactory.getLogger(GoBuilder.class);
    static final String SRC = "/task/src";
    private static final String OUT = "/task/out";
    private static final String GO_BUILD_CACHE = "/cache/go-build";
    private static final String GO_MOD_CACHE = "/cache/gomod";
    /** Passed to the module download only: how to reach the proxy. */
    private static final List<String> PROXY_ENV =
            List.of("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy", "GOSUMDB");

    private final WorkerConfig config;
    private final Sandbox sandbox;
    private final Optional<RunAccount> account;
    private final TaskWorkspace workspace;
    private final String goProxy;
    /** Told to the go command: without /proc (in a container) it cannot find its own installation. */
    private final Optional<String> goRoot;

    GoBuilder(WorkerConfig config, Sandbox sandbox, Optional<RunAccount> account, TaskWorkspace workspace) {
        this.config = config;
        this.sandbox = sandbox;
        this.account = account;
        this.workspace = workspace;
        this.goProxy = proxyOnly(System.getenv("GOPROXY"));
        this.goRoot = goRoot(config.goBinary());
    }

    /** {@code go env GOROOT} of the worker's go (the same /usr the sandbox sees), or empty without one. */
    private static Optional<String> goRoot(String goBinary) {
        try {
            Process p = new ProcessBuilder(goBinary, "env", "GOROOT")
                    .redirectErrorStream(true)
                    .start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            return p.waitFor() == 0 && out.startsWith("/") ? Optional.of(out) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }

    /** The binary, or why there is none. */
    record Built(Path binary, Execution failure) {}

    /**
     * GOPROXY without "direct": a direct fetch would let a go.mod make the worker's network reach any host
     * (loopback included). Empty when unset means the public proxy; "off" stays off.
     */
    static String proxyOnly(String value) {
        if (value == null || value.isBlank()) {
            return "https://proxy.golang.org";
        }
        String kept = Arrays.stream(value.split("[,|]"))
                .map(String::trim)
                .filter(p -> !p.isEmpty() && !p.equals("direct"))
                .collect(Collectors.joining(","));
        if (!kept.equals(value.trim())) {
            log.warn("GOPROXY={}: 'direct' dropped (module downloads go through a proxy only)", value);
        }
        return kept.isEmpty() ? "off" : kept;
    }

    /** Key of a build in the binary cache: the source tree and the settings that change the binary. */
    String cacheKey(String treeId) {
        return config.cgo() ? treeId + "-cgo" : treeId;
    }

    /**
     * Compiles the task's source; {@code output} sees what the steps print as they print it, {@code cancellation}
     * kills the step running and skips the next.
     */
    Built build(Path taskDir, OutputListener output, Cancellation cancellation)
            throws IOException, InterruptedException {
        Path src = taskDir.resolve("src");
        Path out = TaskWorkspace.directoryOf(taskDir.resolve("out"), account);
        Path cache = workspace.goBuildCache().layer(taskDir.resolve("gocache"), account);
        List<byte[]> stderr = new ArrayList<>();
        if (GoModule.requiresModules(src)) {
            Outcome download = run(
                    List.of(config.goBinary(), "mod", "download"),
                    List.of(
                            Mount.writable(src, SRC),
                            Mount.writable(workspace.goModCache(), GO_MOD_CACHE),
                            Mount.writable(cache, GO_BUILD_CACHE)),
                    Network.HOST,
                    output,
                    cancellation);
            stderr.add(download.stderr());
            if (download.cancelled()) {
                return new Built(null, Execution.cancelled(download.stdout(), concat(stderr)));
            }
            Optional<String> failed = failure("go mod download", download);
            if (failed.isPresent()) {
                return new Built(null, Execution.failed(download.stdout(), concat(stderr), failed.get()));
            }
        }
        Outcome build = run(
                List.of(config.goBinary(), "build", "-o", OUT + "/function", "main.go"),
                List.of(
                        Mount.writable(src, SRC), Mount.writable(out, OUT),
                        Mount.readOnly(workspace.goModCache(), GO_MOD_CACHE), Mount.writable(cache, GO_BUILD_CACHE)),
                Network.NONE,
                output,
                cancellation);
        stderr.add(build.stderr());
        if (build.cancelled()) {
            return new Built(null, Execution.cancelled(build.stdout(), concat(stderr)));
        }
        Optional<String> failed = failure("compilation", build);
        if (failed.isPresent()) {
            return new Built(null, Execution.failed(build.stdout(), concat(stderr), failed.get()));
        }
        Path binary = out.resolve("function");
        if (!Files.isRegularFile(binary, LinkOption.NOFOLLOW_LINKS)) {
            return new Built(null, Execution.failed(build.stdout(), concat(stderr), "compilation left no program"));
        }
        return new Built(binary, null);
    }

    /**
     * Fills the shared build cache with the standard packages small functions use, by building the worker's
     * own program and taking its new cache entries in: user builds (which only read it) then start warm. Then builds
     * it again the way a task's build goes ({@link #build}), which warms that path too. {@code dir} is a task
     * directory of the caller's; the program is left in it, or empty when a build failed (logged).
     */
    Optional<Path> warm(Path dir) throws IOException, InterruptedException {
        Path src = dir.resolve("src");
        Files.createDirectories(src);
        try (InputStream main = GoBuilder.class.getResourceAsStream("/warmup/main.go")) {
            Files.write(src.resolve("main.go"), main.readAllBytes());
        }
        Files.writeString(src.resolve("go.mod"), "module minifaas.local/warmup\n\ngo 1.19\n");
        TaskWorkspace.handOver(dir, account);
        long start = System.nanoTime();
        Path cache = workspace.goBuildCache().layer(dir.resolve("gocache-warm"), account);
        Outcome warm = run(
                List.of(config.goBinary(), "build", "-o", "/dev/null", "main.go"),
                List.of(Mount.readOnly(src, SRC), Mount.writable(cache, GO_BUILD_CACHE)),
                Network.NONE,
                OutputListener.NONE,
                new Cancellation());
        if (warm.exitCode() != 0 || warm.timedOut()) {
            log.warn(
                    "the Go build cache could not be warmed (first builds will be slow): exit {}: {}",
                    warm.exitCode(),
                    new String(warm.stderr(), StandardCharsets.UTF_8).trim());
            return Optional.empty();
        }
        // the sandbox has ended: the layer holds only what the go tool wrote for the worker's own program
        int added = workspace.goBuildCache().merge(cache);
        log.info("Go build cache warm in {} ms ({} new entries)", (System.nanoTime() - start) / 1_000_000, added);
        Built built = build(dir, OutputListener.NONE, new Cancellation());
        if (built.failure() != null) {
            log.warn("the warm-up build failed: {}", built.failure().reason());
            return Optional.empty();
        }
        return Optional.of(built.binary());
    }

    private Outcome run(
            List<String> argv, List<Mount> mounts, Network network, OutputListener output, Cancellation cancellation)
            throws IOException, InterruptedException {
        return sandbox.run(new SandboxCommand(
                argv,
                account,
                mounts,
                SRC,
                environment(network == Network.HOST),
                network,
                config.buildLimits(),
                config.buildTimeout(),
                config.outputCapBytes(),
                output,
                cancellation));
    }

    private Optional<String> failure(String step, Outcome outcome) {
        if (outcome.timedOut()) {
            return Optional.of(
                    step + " timed out after " + config.buildTimeout().toSeconds() + " s");
        }
        if (outcome.outOfMemory()) {
            return Optional.of(step + " reached the memory limit: BUILD_MEMORY_MB=" + config.buildMemoryMb());
        }
        if (outcome.exitCode() != 0) {
            return Optional.of(step + " failed with exit code " + outcome.exitCode());
        }
        return Optional.empty();
    }

    private Map<String, String> environment(boolean network) {
        Map<String, String> env = new LinkedHashMap<>();
        if (network) {
            for (String name : PROXY_ENV) {
                String v = System.getenv(name);
                if (v != null) {
                    env.put(name, v);
                }
            }
        }
        env.put("PATH", "/usr/local/go/bin:/usr/lib/go/bin:/usr/local/bin:/usr/bin:/bin");
        goRoot.ifPresent(root -> env.put("GOROOT", root));
        env.put("HOME", "/tmp");
        env.put("TMPDIR", "/tmp");
        env.put("GOTMPDIR", "/tmp");
        env.put("GOPATH", "/tmp/gopath");
        env.put("GOCACHE", GO_BUILD_CACHE);
        env.put("GOMODCACHE", GO_MOD_CACHE);
        env.put("GOPROXY", goProxy);
        env.put("GOENV", "off");
        env.put("GOWORK", "off"); // a go.work of the repository could point module replacements elsewhere
        env.put("GOTOOLCHAIN", "local");
        env.put("GOTELEMETRY", "off");
        env.put("CGO_ENABLED", config.cgo() ? "1" : "0");
        env.put("LANG", "C.UTF-8");
        return env;
    }

    private static byte[] concat(List<byte[]> parts) {
        int n = parts.stream().mapToInt(b -> b.length).sum();
        byte[] all = new byte[n];
        int at = 0;
        for (byte[] b : parts) {
            System.arraycopy(b, 0, all, at, b.length);
            at += b.length;
        }
        return all;
    }
}
