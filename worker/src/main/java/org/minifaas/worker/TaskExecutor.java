package org.minifaas.worker;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.minifaas.common.Threads;
import org.minifaas.common.model.Task;
import org.minifaas.common.net.AddressPolicy;
import org.minifaas.worker.sandbox.Cancellation;
import org.minifaas.worker.sandbox.Network;
import org.minifaas.worker.sandbox.OutputListener;
import org.minifaas.worker.sandbox.RunAccount;
import org.minifaas.worker.sandbox.Sandbox;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one task from repository to result files: clone ({@link GitSource}), pick the runtime ({@link Runtimes}) and
 * prepare what it needs unless cached (compile, install dependencies), run ({@link FunctionRunner}); every step that
 * runs code of the repository runs in the {@link Sandbox}. A commit run before runs from the caches without a clone
 * ({@link KnownCommits}). Every failure ends the task as FINISHED_WITH_ERRORS with a one-line reason in error.txt; a
 * cancellation kills the step running and skips the others; the task's directory is removed in every case.
 */
public final class TaskExecutor {
    private static final Logger log = LoggerFactory.getLogger(TaskExecutor.class);

    private final TaskWorkspace workspace;
    private final GitSource git;
    private final Runtimes runtimes;
    /** Changes when what the runtimes would run with changes: part of each kept commit's key. */
    private final String runtimesFingerprint;

    private final FunctionRunner runner;
    private final KnownCommits commits;
    /** Repositories with a commit in {@link #commits}. */
    private final Set<String> knownRepositories = ConcurrentHashMap.newKeySet();

    private final Optional<RunAccount> buildAccount;
    /** Runs the warm-up that can wait ({@link FunctionRuntime#warmLater}) once the worker takes tasks. */
    private final ExecutorService laterWarmer = Executors.newSingleThreadExecutor(Threads.daemon("runtime-warm"));

    private volatile java.util.concurrent.Future<?> warmingLater =
            java.util.concurrent.CompletableFuture.completedFuture(null);
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
        this.runner = new FunctionRunner(config, sandbox, runAccount);
        BinaryCache binaries = new BinaryCache(config.workDir().resolve("binaries"), config.binaryCacheEntries());
        DependencyCache dependencies =
                new DependencyCache(config.workDir().resolve("dependencies"), config.binaryCacheEntries());
        // module downloads go through GOPROXY alone, on the host's network; package installs fetch what a
        // lockfile names, so they get a clone's network and account (egress: public addresses only)
        BuildStep builds = new BuildStep(config, sandbox, this.buildAccount, Network.HOST, BuildStep.GO_DOWNLOAD_ENV);
        BuildStep installs =
                new BuildStep(config, sandbox, git.account(), git.network(), BuildStep.PACKAGE_INSTALL_ENV);
        // install scripts and setup.py are code of the repository's choosing: on the functions' egress network, or
        // where the operator allows private addresses; on the host's network otherwise, none runs
        boolean scriptsAllowed = git.network() == Network.EGRESS || config.allowPrivateRepositories();
        PackageInstalls packages = new PackageInstalls(
                installs, dependencies, scriptsAllowed, new AddressPolicy(config.allowPrivateRepositories()));
        this.runtimes = new Runtimes(List.of(
                new GoRuntime(
                        GoToolchains.discover(config.goToolchains(), config.goBinary()),
                        new GoBuilder(config, builds, workspace),
                        binaries,
                        config.cgo()),
                new NodeRuntime(
                        Interpreter.probe(config.nodeBinary(), "node"),
                        Interpreter.probe(config.npmBinary(), "npm"),
                        packages),
                new PythonRuntime(Interpreter.probe(config.pythonBinary(), "python"), packages)));
        this.runtimesFingerprint = runtimes.fingerprint();
        this.commits = new KnownCommits(config.workDir().resolve("commits"), config.binaryCacheEntries());
        this.knownRepositories.addAll(commits.repositories());
    }

    /** The runtimes and their toolchains, one line each (for the start log). */
    public List<String> describeRuntimes() {
        return runtimes.describe();
    }

    /** The directory tasks run in; exposed for the tests' leak checks. */
    public Path tasksDir() {
        return workspace.tasksDir();
    }

    /**
     * Makes the first task as fast as the next ones, before the worker takes any (at start): each runtime's warm-up
     * (Go: the shared build cache filled for each toolchain, a build done the way a task's goes and its program run in
     * a function's sandbox with the functions' network), and the ref question's HTTP client loaded. Returns what it
     * took; a step that fails is logged and skipped (tasks then pay for it).
     */
    public Duration warm() throws IOException, InterruptedException {
        long start = System.nanoTime();
        Path dir = workspace.createWarming(buildAccount);
        try {
            for (String name : List.of(GoRuntime.NAME, NodeRuntime.NAME, PythonRuntime.NAME)) {
                Optional<FunctionRuntime> runtime = runtimes.byName(name);
                if (runtime.isPresent()) {
                    runtime.get().warm(dir, runner);
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
        warmingLater = laterWarmer.submit(this::warmLater);
        return took;
    }

    private void warmLater() {
        long start = System.nanoTime();
        Path dir = null;
        try {
            dir = workspace.createWarming(buildAccount);
            for (String name : List.of(GoRuntime.NAME, NodeRuntime.NAME, PythonRuntime.NAME)) {
                Optional<FunctionRuntime> runtime = runtimes.byName(name);
                if (runtime.isPresent()) {
                    runtime.get().warmLater(dir);
                }
            }
            log.info("runtimes warm in {} ms (the rest, beside tasks)", (System.nanoTime() - start) / 1_000_000);
        } catch (IOException e) {
            log.warn("the later warm-up failed (tasks pay for it): {}", e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            if (dir != null) {
                TaskWorkspace.remove(dir);
            }
        }
    }

    /** Waits until the warm-up that runs beside tasks is done (tests; at most {@code limit}). */
    public void awaitWarm(Duration limit) throws InterruptedException {
        try {
            warmingLater.get(limit.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException e) {
            log.warn("the later warm-up is not done: {}", e.toString());
        }
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
        return execute(task, null, progress, cancellation);
    }

    /** As {@link #execute(Task, Progress, Cancellation)}, for a task got from the queue at {@code position}. */
    public Execution execute(Task task, QueuePosition position, Progress progress, Cancellation cancellation)
            throws InterruptedException {
        Path dir = null;
        try {
            dir = workspace.create(task.taskId(), git.account());
            return executeIn(task, position, dir, progress, cancellation);
        } catch (IOException | RuntimeException e) {
            // a repository the checks above did not foresee: the task fails, the worker goes on
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

    private Execution executeIn(
            Task task, QueuePosition position, Path dir, Progress progress, Cancellation cancellation)
            throws IOException, InterruptedException {
        Path src = dir.resolve("src");
        progress.phase("cloning");
        long start = System.nanoTime();
        // a commit run before, what its runtime prepared and its files still kept: no clone, no build. Only asked for
        // repositories this worker kept a commit of (a new repository would pay the ref advertisement on top of its
        // clone)
        Optional<String> resolved = knownRepositories.contains(task.repoUrl())
                ? git.resolve(task.repoUrl(), task.ref(), position, createdAt(task), cancellation)
                : Optional.empty();
        if (resolved.isPresent()) {
            Optional<Execution> ran = runKnown(task, resolved.get(), start, progress, cancellation);
            if (ran.isPresent()) {
                return ran.get();
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
        Runtimes.Selection selection = runtimes.select(task.runtime(), src);
        if (selection.failure() != null) {
            return Execution.failed(selection.failure()).with(commit, cloneMs, null, null, null);
        }
        FunctionRuntime runtime = selection.runtime();
        FunctionRuntime.Plan plan = runtime.plan(src, cloned.treeId());
        if (plan.failure() != null) {
            return Execution.failed(plan.failure())
                    .with(commit, cloneMs, null, null, null)
                    .withRuntime(plan.runtime(), null);
        }
        TaskWorkspace.handOver(src, buildAccount);
        start = System.nanoTime();
        Optional<Path> artifact = Optional.empty();
        Boolean cached = null;
        if (plan.artifactKey() != null) {
            progress.phase(
                    plan.cacheable() && runtime.cached(plan.artifactKey()).isPresent() ? "cached" : "building");
            FunctionRuntime.Prepared prepared = runtime.prepare(plan, dir, progress.buildOutput(), cancellation);
            if (prepared.failure() != null) {
                return prepared.failure()
                        .with(commit, cloneMs, millisSince(start), null, false)
                        .withRuntime(plan.runtime(), plan.toolchain());
            }
            artifact = Optional.of(prepared.artifact());
            cached = prepared.cached();
        }
        if (plan.artifactKey() == null
                || (plan.cacheable() && runtime.cached(plan.artifactKey()).isPresent())) {
            String commitKey = commitKey(commit, task);
            // a runtime's mount points are emptied in the kept copy only when something is mounted over them
            Set<String> emptied = plan.artifactKey() == null ? Set.of() : runtime.mountPoints();
            if (commits.remember(commitKey, task.repoUrl(), plan, src, emptied)
                    || commits.get(commitKey, task.repoUrl()).isPresent()) {
                knownRepositories.add(task.repoUrl()); // the next task of this commit needs no clone
            }
        }
        long buildMs = millisSince(start);
        if (cancellation.isCancelled()) {
            return Execution.cancelled()
                    .with(commit, cloneMs, buildMs, null, cached)
                    .withRuntime(plan.runtime(), plan.toolchain());
        }
        progress.phase("running");
        start = System.nanoTime();
        Execution execution = runner.run(task, src, runtime.launch(src, artifact), progress.runOutput(), cancellation);
        long runMs = millisSince(start);
        log.info(
                "task {} timings: clone {} ms, build {} ms{}, run {} ms ({}): {}",
                task.taskId(),
                cloneMs,
                buildMs,
                Boolean.TRUE.equals(cached) ? " (cached)" : "",
                runMs,
                plan.toolchain(),
                execution.reason());
        return execution.with(commit, cloneMs, buildMs, runMs, cached).withRuntime(plan.runtime(), plan.toolchain());
    }

    /** Runs a kept commit from the caches; empty when it is not kept (or what was prepared for it is gone). */
    private Optional<Execution> runKnown(
            Task task, String commit, long start, Progress progress, Cancellation cancellation)
            throws IOException, InterruptedException {
        Optional<KnownCommits.Known> known = commits.get(commitKey(commit, task), task.repoUrl());
        if (known.isEmpty()) {
            return Optional.empty();
        }
        Optional<FunctionRuntime> runtime = runtimes.byName(known.get().runtime());
        if (runtime.isEmpty()) {
            return Optional.empty();
        }
        Optional<Path> artifact = Optional.empty();
        if (known.get().artifactKey() != null) {
            artifact = runtime.get().cached(known.get().artifactKey());
            if (artifact.isEmpty()) {
                return Optional.empty();
            }
        }
        long resolveMs = millisSince(start);
        if (cancellation.isCancelled()) {
            return Optional.of(Execution.cancelled().with(commit, resolveMs, null, null, null));
        }
        progress.phase("cached");
        progress.phase("running");
        start = System.nanoTime();
        Path source = known.get().source();
        Execution execution =
                runner.run(task, source, runtime.get().launch(source, artifact), progress.runOutput(), cancellation);
        long runMs = millisSince(start);
        log.info(
                "task {} timings: clone {} ms, build 0 ms (cached), run {} ms (clone skipped, commit {}, {}): {}",
                task.taskId(),
                resolveMs,
                runMs,
                commit,
                known.get().toolchain(),
                execution.reason());
        return Optional.of(execution
                .with(commit, resolveMs, 0L, runMs, known.get().artifactKey() == null ? null : true)
                .withoutClone()
                .withRuntime(known.get().runtime(), known.get().toolchain()));
    }

    /** A kept commit's key: the commit, the runtime the task asks for, and what the runtimes would run with. */
    private String commitKey(String commit, Task task) {
        return CacheKeys.of("commit", commit, String.valueOf(task.runtime()), runtimesFingerprint);
    }

    /**
     * The latest moment the task may have been made (its time is written to the millisecond, cut down), or null when
     * unknown (tasks queued by older frontends) or unreadable.
     */
    static Instant createdAt(Task task) {
        try {
            return task.createdAt() == null
                    ? null
                    : Instant.parse(task.createdAt()).plusMillis(1);
        } catch (DateTimeParseException e) {
            return null;
        }
    }

    private static long millisSince(long startNanos) {
        return (System.nanoTime() - startNanos) / 1_000_000;
    }
}
