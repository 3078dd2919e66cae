package org.minifaas.worker;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.minifaas.common.Threads;
import org.minifaas.common.model.Task;
import org.minifaas.common.model.TaskStatus;
import org.minifaas.worker.sandbox.Cancellation;
import org.minifaas.worker.sandbox.OutputListener;
import org.minifaas.worker.sandbox.RunAccount;
import org.minifaas.worker.sandbox.Sandbox;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one task from repository to result files: clone ({@link GitSource}), compile unless the binary cache
 * has the tree ({@link GoBuilder}, {@link BinaryCache}), run ({@link FunctionRunner}); every step that runs
 * code of the repository runs in the {@link Sandbox}. Every failure ends the task as FINISHED_WITH_ERRORS
 * with a one-line reason in error.txt; a cancellation kills the step running and skips the others; the task's
 * directory is removed in every case.
 */
public final class TaskExecutor {
    private static final Logger log = LoggerFactory.getLogger(TaskExecutor.class);

    private final TaskWorkspace workspace;
    private final GitSource git;
    private final GoBuilder builder;
    private final FunctionRunner runner;
    private final BinaryCache binaries;
    private final Path binariesDir;
    private final KnownCommits commits;
    /** Repositories with a commit in {@link #commits}. */
    private final Set<String> knownRepositories = ConcurrentHashMap.newKeySet();

    private final Optional<RunAccount> buildAccount;
    /** Removes finished tasks' directories off the task's critical path, in order. */
    private final ExecutorService cleaner = Executors.newSingleThreadExecutor(Threads.daemon("task-cleanup"));

    /**
     * @param runAccount   the account functions run as (empty: the worker's own user)
     * @param buildAccount the account builds run as, owner of the shared Go caches (empty: the run account)
     */
    public TaskExecutor(
            WorkerConfig config, Sandbox sandbox, Optional<RunAccount> runAccount, Optional<RunAccount> buildAccount)
            throws IOException {
        this.buildAccount = buildAccount.isPresent() ? buildAccount : runAccount;
        this.workspace = new TaskWorkspace(config.workDir(), config.cacheDir(), this.buildAccount);
        this.git = new GitSource(config, sandbox, runAccount, this.buildAccount);
        this.builder = new GoBuilder(config, sandbox, this.buildAccount, workspace);
        this.runner = new FunctionRunner(config, sandbox, runAccount);
        this.binariesDir = config.workDir().resolve("binaries");
        this.binaries = new BinaryCache(binariesDir, config.binaryCacheEntries());
        this.commits = new KnownCommits(config.workDir().resolve("commits"), config.binaryCacheEntries());
        this.knownRepositories.addAll(commits.repositories());
    }

    /** The directory tasks run in; exposed for the tests' leak checks. */
    public Path tasksDir() {
        return workspace.tasksDir();
    }

    /**
     * Makes the first task as fast as the next ones, before the worker takes any (at start): the shared Go build
     * cache filled and a build done the way a task's goes, the worker's program run in a function's sandbox with the
     * functions' network, and the ref question's HTTP client loaded. Returns what it took; a step that fails is
     * logged and skipped (tasks then pay for it).
     */
    public Duration warm() throws IOException, InterruptedException {
        long start = System.nanoTime();
        Path dir = workspace.create(UUID.randomUUID(), buildAccount);
        try {
            Optional<Path> built = builder.warm(dir);
            if (built.isPresent()) {
                Path binary = BinaryCache.copyOut(built.get(), dir.resolve("function"));
                Task warmup = new Task(UUID.randomUUID(), "warmup", "warmup", List.of("warm"));
                Execution run = runner.run(warmup, dir.resolve("src"), binary, OutputListener.NONE, new Cancellation());
                if (run.status() != TaskStatus.FINISHED) {
                    log.warn("the warm-up run failed: {}", run.reason());
                }
            }
            git.warm();
        } finally {
            TaskWorkspace.remove(dir);
        }
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        log.info(
                "worker warm in {} ms: build cache, a build, a sandboxed run and the ref question ready",
                took.toMillis());
        return took;
    }

    /** Removes what tasks interrupted by a killed worker left (at start, before taking tasks). */
    public void removeLeftovers() {
        workspace.removeLeftovers();
    }

    /**
     * Where a running task's phases ("cloning", "building" or "cached", "running") and output go while it runs;
     * no call blocks the task.
     */
    interface Progress {
        Progress NONE = phase -> {};

        void phase(String phase);

        /** For one build step: all it prints is the task's stderr. */
        default OutputListener buildOutput() {
            return OutputListener.NONE;
        }

        /** For the function's run. */
        default OutputListener runOutput() {
            return OutputListener.NONE;
        }
    }

    public Execution execute(Task task) throws InterruptedException {
        return execute(task, Progress.NONE, new Cancellation());
    }

    /**
     * Runs a task to its end, telling {@code progress} as it goes. Once {@code cancellation} is cancelled, the step
     * running is killed and no further step runs: the execution is then CANCELLED with the output so far.
     */
    public Execution execute(Task task, Progress progress, Cancellation cancellation) throws InterruptedException {
        Path dir = null;
        try {
            dir = workspace.create(task.taskId(), git.account());
            return executeIn(task, dir, progress, cancellation);
        } catch (IOException e) {
            log.warn("task {} failed in the worker: {}", task.taskId(), e.toString());
            return Execution.failed("worker error: " + e.getMessage());
        } finally {
            if (dir != null) {
                Path done = dir;
                cleaner.submit(() -> TaskWorkspace.remove(done));
            }
        }
    }

    /** Waits until the directories of the tasks executed so far are removed. */
    public void awaitCleanup() throws InterruptedException {
        try {
            cleaner.submit(() -> {}).get(2, TimeUnit.MINUTES);
        } catch (ExecutionException | TimeoutException e) {
            log.warn("task directories not removed yet: {}", e.toString());
        }
    }

    private Execution executeIn(Task task, Path dir, Progress progress, Cancellation cancellation)
            throws IOException, InterruptedException {
        Path src = dir.resolve("src");
        progress.phase("cloning");
        long start = System.nanoTime();
        // a commit run before, its binary and files still kept: no clone, no build. Only asked for repositories this
        // worker kept a commit of (a new repository would pay the ref advertisement on top of its clone)
        Optional<String> resolved = knownRepositories.contains(task.repoUrl())
                ? git.resolve(task.repoUrl(), task.ref(), cancellation)
                : Optional.empty();
        if (resolved.isPresent()) {
            Optional<KnownCommits.Known> known = commits.get(builder.cacheKey(resolved.get()), task.repoUrl());
            Optional<Path> binary = known.flatMap(k -> binaries.get(k.binaryKey()));
            if (binary.isPresent()) {
                long resolveMs = millisSince(start);
                if (cancellation.isCancelled()) {
                    return Execution.cancelled().with(resolved.get(), resolveMs, null, null, null);
                }
                progress.phase("cached");
                progress.phase("running");
                start = System.nanoTime();
                Execution execution =
                        runner.run(task, known.get().source(), binary.get(), progress.runOutput(), cancellation);
                long runMs = millisSince(start);
                log.info(
                        "task {} timings: clone {} ms, build 0 ms (cached), run {} ms (clone skipped, commit {}): {}",
                        task.taskId(),
                        resolveMs,
                        runMs,
                        resolved.get(),
                        execution.reason());
                return execution
                        .with(resolved.get(), resolveMs, 0L, runMs, true)
                        .withoutClone();
            }
        }
        GitSource.Cloned cloned = git.cloneInto(task.repoUrl(), task.ref(), src, cancellation);
        long cloneMs = millisSince(start);
        if (cloned.cancelled()) {
            return Execution.cancelled().with(null, cloneMs, null, null, null);
        }
        if (cloned.error() != null) {
            return Execution.failed(cloned.error()).with(null, cloneMs, null, null, null);
        }
        String commit = cloned.commit();
        Optional<String> problem = GoModule.problem(src);
        if (problem.isPresent()) {
            return Execution.failed(problem.get()).with(commit, cloneMs, null, null, null);
        }
        TaskWorkspace.handOver(src, buildAccount);
        start = System.nanoTime();
        String key = builder.cacheKey(cloned.treeId());
        Optional<Path> cached = binaries.get(key);
        Path binary;
        if (cached.isPresent()) {
            progress.phase("cached");
            binary = cached.get();
        } else {
            progress.phase("building");
            GoBuilder.Built built = builder.build(dir, progress.buildOutput(), cancellation);
            if (built.failure() != null) {
                return built.failure().with(commit, cloneMs, millisSince(start), null, false);
            }
            // the build's sandbox has ended: nothing can change its output while the worker copies it
            binary = binaries.put(key, built.binary())
                    .orElse(BinaryCache.copyOut(built.binary(), dir.resolve("function")));
        }
        if (binary.startsWith(binariesDir)) {
            if (commits.remember(builder.cacheKey(commit), task.repoUrl(), key, src)
                    || commits.get(builder.cacheKey(commit), task.repoUrl()).isPresent()) {
                knownRepositories.add(task.repoUrl()); // the next task of this commit needs no clone
            }
        }
        long buildMs = millisSince(start);
        if (cancellation.isCancelled()) {
            return Execution.cancelled().with(commit, cloneMs, buildMs, null, cached.isPresent());
        }
        progress.phase("running");
        start = System.nanoTime();
        Execution execution = runner.run(task, src, binary, progress.runOutput(), cancellation);
        long runMs = millisSince(start);
        log.info(
                "task {} timings: clone {} ms, build {} ms{}, run {} ms: {}",
                task.taskId(),
                cloneMs,
                buildMs,
                cached.isPresent() ? " (cached)" : "",
                runMs,
                execution.reason());
        return execution.with(commit, cloneMs, buildMs, runMs, cached.isPresent());
    }

    private static long millisSince(long startNanos) {
        return (System.nanoTime() - startNanos) / 1_000_000;
    }
}
