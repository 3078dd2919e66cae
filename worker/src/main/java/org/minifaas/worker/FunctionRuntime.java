package org.minifaas.worker;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.minifaas.worker.sandbox.Cancellation;
import org.minifaas.worker.sandbox.Mount;
import org.minifaas.worker.sandbox.OutputListener;

/**
 * A language functions are written in: how to recognise a repository of it, what it needs before it runs (a compiled
 * program, installed dependencies) and how that is cached, and the command line that starts it. The task pipeline
 * ({@link TaskExecutor}) knows only this; adding a language is one implementation plus its packages in the images.
 * Whatever runs code of the repository runs in the sandbox: {@link #prepare} through {@link BuildStep}, the function
 * through {@link FunctionRunner} with the {@link Launch} given here.
 */
interface FunctionRuntime {
    /** The name a task asks for it by ({@code runtime} of POST /v1/tasks) and the record shows. */
    String name();

    /** The file in a repository's root that makes it one of this runtime's: main.go, package.json, main.py. */
    String marker();

    /**
     * Whether a checked-out repository is one of this runtime's: its {@link #marker} is there (a link counts, for
     * {@link #plan} to refuse it with its reason).
     */
    default boolean detect(Path src) {
        return Files.exists(src.resolve(marker()), LinkOption.NOFOLLOW_LINKS);
    }

    /**
     * What running the checked-out source takes, or why it cannot run; only reads the repository (as root: no link
     * followed), runs nothing. {@code treeId} is the Git tree of the checkout.
     */
    Plan plan(Path src, String treeId) throws IOException;

    /**
     * Makes what the plan needs (compiles, installs dependencies) in the task directory {@code taskDir} (its source
     * in {@code src/}, handed over to the build account), or takes it from the cache. Only for a plan with an
     * artifact key.
     */
    Prepared prepare(Plan plan, Path taskDir, OutputListener output, Cancellation cancellation)
            throws IOException, InterruptedException;

    /** What an earlier preparation left in the cache under {@code artifactKey}, if still there. */
    Optional<Path> cached(String artifactKey);

    /** How to start the function whose source is {@code src}, with what {@link #prepare} made (empty: nothing). */
    Launch launch(Path src, Optional<Path> artifact) throws IOException;

    /** Whatever makes the first task as fast as the next ones (at start); a step that fails is logged and skipped. */
    default void warm(Path dir, FunctionRunner runner) throws IOException, InterruptedException {}

    /**
     * Warm-up that can wait until the worker takes tasks (it runs beside them, in {@code dir}): what only some tasks
     * need.
     */
    default void warmLater(Path dir) throws IOException, InterruptedException {}

    /**
     * Top-level names in the source that {@link #launch} mounts over: a kept commit's copy has them as empty
     * directories, their content coming from the cache.
     */
    default Set<String> mountPoints() {
        return Set.of();
    }

    /** The toolchains or interpreters this runtime would use (for the start log and the cache keys). */
    String describe();

    /**
     * A plan: the runtime and the toolchain or interpreter that runs the function, and the key of what must be
     * prepared for it (null: nothing, it runs from its source as is), which is kept for the next task unless not
     * {@code cacheable}; or the reason it cannot run.
     */
    record Plan(String runtime, String toolchain, String artifactKey, String failure, boolean cacheable) {
        Plan(String runtime, String toolchain, String artifactKey, String failure) {
            this(runtime, toolchain, artifactKey, failure, true);
        }

        static Plan failed(String runtime, String reason) {
            return new Plan(runtime, null, null, reason);
        }
    }

    /** What {@link #prepare} made, whether it came from the cache, or why it failed. */
    record Prepared(Path artifact, boolean cached, Execution failure) {
        static Prepared failed(Execution failure) {
            return new Prepared(null, false, failure);
        }
    }

    /**
     * The function's command line before its parameters, what it sees besides its source (read-only at {@code
     * /task/src}, its working directory), and its environment on top of the common one.
     */
    record Launch(List<String> command, List<Mount> mounts, Map<String, String> env) {}
}
