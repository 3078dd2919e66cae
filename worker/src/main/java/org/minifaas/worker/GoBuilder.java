package org.minifaas.worker;

import java.io.IOException;
import java.io.InputStream;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Compiles a task's {@code main.go} with the toolchain chosen for it ({@link GoToolchains}), each step in a sandbox
 * of its own as the build account ({@link BuildStep}): {@code go mod download} (only when go.mod requires modules;
 * the one step with the host's network, for the module proxy), then {@code go build} with no network. The shared
 * build cache is read-only to user builds (only {@link #warm} fills it, with the worker's own program); the module
 * cache is writable during the download only. cgo is off unless FUNCTION_CGO=1. Compiling first and running the
 * binary ourselves is what {@code go run} does internally, and gives the function's own exit code.
 */
final class GoBuilder {
    private static final Logger log = LoggerFactory.getLogger(GoBuilder.class);
    static final String SRC = "/task/src";
    private static final String OUT = "/task/out";
    private static final String GO_BUILD_CACHE = "/cache/go-build";
    private static final String GO_MOD_CACHE = "/cache/gomod";

    private final WorkerConfig config;
    private final BuildStep steps;
    private final TaskWorkspace workspace;
    private final String goProxy;

    GoBuilder(WorkerConfig config, BuildStep steps, TaskWorkspace workspace) {
        this.config = config;
        this.steps = steps;
        this.workspace = workspace;
        this.goProxy = proxyOnly(System.getenv("GOPROXY"));
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

    /**
     * Compiles the task's source with {@code toolchain}; {@code output} sees what the steps print as they print it,
     * {@code cancellation} kills the step running and skips the next.
     */
    Built build(Path taskDir, GoToolchains.Toolchain toolchain, OutputListener output, Cancellation cancellation)
            throws IOException, InterruptedException {
        Path src = taskDir.resolve("src");
        Path out = TaskWorkspace.directoryOf(taskDir.resolve("out"), steps.account());
        Path cache = workspace.goBuildCache().layer(taskDir.resolve("gocache"), steps.account());
        List<byte[]> stderr = new ArrayList<>();
        if (GoModule.requiresModules(src)) {
            Outcome download = steps.run(
                    List.of(toolchain.go().toString(), "mod", "download"),
                    List.of(
                            Mount.writable(src, SRC),
                            Mount.writable(workspace.goModCache(), GO_MOD_CACHE),
                            Mount.writable(cache, GO_BUILD_CACHE)),
                    SRC,
                    environment(toolchain),
                    Network.HOST,
                    output,
                    cancellation);
            stderr.add(download.stderr());
            if (download.cancelled()) {
                return new Built(null, Execution.cancelled(download.stdout(), BuildStep.concat(stderr)));
            }
            Optional<String> failed = steps.failure("go mod download", download);
            if (failed.isPresent()) {
                return new Built(null, Execution.failed(download.stdout(), BuildStep.concat(stderr), failed.get()));
            }
        }
        Outcome build = steps.run(
                List.of(toolchain.go().toString(), "build", "-o", OUT + "/function", "main.go"),
                List.of(
                        Mount.writable(src, SRC), Mount.writable(out, OUT),
                        Mount.readOnly(workspace.goModCache(), GO_MOD_CACHE), Mount.writable(cache, GO_BUILD_CACHE)),
                SRC,
                environment(toolchain),
                Network.NONE,
                output,
                cancellation);
        stderr.add(build.stderr());
        if (build.cancelled()) {
            return new Built(null, Execution.cancelled(build.stdout(), BuildStep.concat(stderr)));
        }
        Optional<String> failed = steps.failure("compilation", build);
        if (failed.isPresent()) {
            return new Built(null, Execution.failed(build.stdout(), BuildStep.concat(stderr), failed.get()));
        }
        Path binary = out.resolve("function");
        if (!Files.isRegularFile(binary, LinkOption.NOFOLLOW_LINKS)) {
            return new Built(
                    null, Execution.failed(build.stdout(), BuildStep.concat(stderr), "compilation left no program"));
        }
        return new Built(binary, null);
    }

    /**
     * Fills the shared build cache with what {@code toolchain} compiles of the standard packages small functions use,
     * by building the worker's own program and taking its new cache entries in: user builds (which only read it) then
     * start warm. {@code dir} is a directory of the caller's, left with the program's source in {@code src/}.
     */
    boolean warmCache(Path dir, GoToolchains.Toolchain toolchain) throws IOException, InterruptedException {
        Path src = writeWarmupProgram(dir);
        long start = System.nanoTime();
        Path cache = workspace.goBuildCache().layer(dir.resolve("gocache-warm-" + toolchain.label()), steps.account());
        Outcome warm = steps.run(
                List.of(toolchain.go().toString(), "build", "-o", "/dev/null", "main.go"),
                List.of(Mount.readOnly(src, SRC), Mount.writable(cache, GO_BUILD_CACHE)),
                SRC,
                environment(toolchain),
                Network.NONE,
                OutputListener.NONE,
                new Cancellation());
        if (warm.exitCode() != 0 || warm.timedOut()) {
            log.warn(
                    "the Go build cache could not be warmed for {} (its first builds will be slow): exit {}: {}",
                    toolchain.label(),
                    warm.exitCode(),
                    BuildStep.stderr(warm));
            return false;
        }
        // the sandbox has ended: the layer holds only what the go tool wrote for the worker's own program
        int added = workspace.goBuildCache().merge(cache);
        log.info(
                "Go build cache warm for {} in {} ms ({} new entries)",
                toolchain.label(),
                (System.nanoTime() - start) / 1_000_000,
                added);
        return true;
    }

    /** The worker's bundled program (the standard packages small functions use) in {@code dir/src}. */
    Path writeWarmupProgram(Path dir) throws IOException {
        Path src = dir.resolve("src");
        if (Files.isRegularFile(src.resolve("main.go"), LinkOption.NOFOLLOW_LINKS)) {
            return src;
        }
        Files.createDirectories(src);
        try (InputStream main = GoBuilder.class.getResourceAsStream("/warmup/main.go")) {
            Files.write(src.resolve("main.go"), main.readAllBytes());
        }
        Files.writeString(src.resolve("go.mod"), "module minifaas.local/warmup\n\ngo 1.19\n");
        TaskWorkspace.handOver(dir, steps.account());
        return src;
    }

    private Map<String, String> environment(GoToolchains.Toolchain toolchain) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("PATH", toolchain.goRoot().resolve("bin") + ":/usr/local/bin:/usr/bin:/bin");
        // told to the go command: without /proc (in a container) it cannot find its own installation
        env.put("GOROOT", toolchain.goRoot().toString());
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
}
