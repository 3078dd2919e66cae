package org.minifaas.worker;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.minifaas.common.model.Task;
import org.minifaas.common.model.TaskStatus;
import org.minifaas.worker.sandbox.Cancellation;
import org.minifaas.worker.sandbox.Mount;
import org.minifaas.worker.sandbox.OutputListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Go functions: a repository with {@code main.go} in its root, compiled by the toolchain its go.mod asks for
 * ({@link GoToolchains}) and run as a program of its own. Compiled programs are cached by source tree, toolchain and
 * cgo setting ({@link BinaryCache}).
 */
final class GoRuntime implements FunctionRuntime {
    private static final Logger log = LoggerFactory.getLogger(GoRuntime.class);
    static final String NAME = "go";
    private static final String PROGRAM = "/task/function";

    private final GoToolchains toolchains;
    private final GoBuilder builder;
    private final BinaryCache binaries;
    private final boolean cgo;

    GoRuntime(GoToolchains toolchains, GoBuilder builder, BinaryCache binaries, boolean cgo) {
        this.toolchains = toolchains;
        this.builder = builder;
        this.binaries = binaries;
        this.cgo = cgo;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String marker() {
        return "main.go";
    }

    @Override
    public Plan plan(Path src, String treeId) throws IOException {
        Optional<String> problem = GoModule.problem(src);
        if (problem.isPresent()) {
            return Plan.failed(NAME, problem.get());
        }
        GoToolchains.Choice choice = toolchains.choose(src);
        if (choice.failure() != null) {
            return Plan.failed(NAME, choice.failure());
        }
        String label = choice.toolchain().label();
        return new Plan(NAME, label, CacheKeys.of(NAME, treeId, label, cgo ? "cgo" : "no-cgo"), null);
    }

    @Override
    public Prepared prepare(Plan plan, Path taskDir, OutputListener output, Cancellation cancellation)
            throws IOException, InterruptedException {
        Optional<Path> cached = binaries.get(plan.artifactKey());
        if (cached.isPresent()) {
            return new Prepared(cached.get(), true, null);
        }
        GoToolchains.Toolchain toolchain = toolchains.installed().stream()
                .filter(t -> t.label().equals(plan.toolchain()))
                .findFirst()
                .orElseThrow(() -> new IOException(plan.toolchain() + " is no longer installed"));
        GoBuilder.Built built = builder.build(taskDir, toolchain, output, cancellation);
        if (built.failure() != null) {
            return Prepared.failed(built.failure());
        }
        // the build's sandbox has ended: nothing can change its output while the worker copies it
        Path binary = binaries.put(plan.artifactKey(), built.binary())
                .orElse(BinaryCache.copyOut(built.binary(), taskDir.resolve("function")));
        return new Prepared(binary, false, null);
    }

    @Override
    public Optional<Path> cached(String artifactKey) {
        return binaries.get(artifactKey);
    }

    @Override
    public Launch launch(Path src, Optional<Path> artifact) throws IOException {
        Path binary = artifact.orElseThrow(() -> new IOException("no compiled program to run"));
        return new Launch(List.of(PROGRAM), List.of(Mount.readOnly(binary, PROGRAM)), Map.of());
    }

    /**
     * Warms the shared build cache with the newest toolchain (what go.mod files without a toolchain of their own series
     * get), then builds the worker's own program the way a task's build goes and runs it in a function's sandbox with
     * the functions' network.
     */
    @Override
    public void warm(Path dir, FunctionRunner runner) throws IOException, InterruptedException {
        Optional<GoToolchains.Toolchain> newest = toolchains.newest();
        if (newest.isEmpty()) {
            return;
        }
        builder.warmCache(dir, newest.get());
        Path src = builder.writeWarmupProgram(dir);
        GoBuilder.Built built = builder.build(dir, newest.get(), OutputListener.NONE, new Cancellation());
        if (built.failure() != null) {
            log.warn("the warm-up build failed: {}", built.failure().reason());
            return;
        }
        Path binary = BinaryCache.copyOut(built.binary(), dir.resolve("function"));
        Task warmup = new Task(UUID.randomUUID(), "warmup", "warmup", List.of("warm"));
        Execution run =
                runner.run(warmup, src, launch(src, Optional.of(binary)), OutputListener.NONE, new Cancellation());
        if (run.status() != TaskStatus.FINISHED) {
            log.warn("the warm-up run failed: {}", run.reason());
        }
    }

    /** Warms the shared build cache with each older toolchain (a cold one costs ~15 s on 2 cores), beside tasks. */
    @Override
    public void warmLater(Path dir) throws IOException, InterruptedException {
        List<GoToolchains.Toolchain> installed = toolchains.installed();
        for (GoToolchains.Toolchain toolchain : installed.subList(0, Math.max(0, installed.size() - 1))) {
            builder.warmCache(dir, toolchain);
        }
    }

    @Override
    public String describe() {
        return "Go: " + toolchains + (cgo ? ", cgo on" : "");
    }
}
