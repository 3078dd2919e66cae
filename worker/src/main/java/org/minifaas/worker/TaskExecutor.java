package org.minifaas.worker;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.minifaas.common.Threads;
import org.minifaas.common.model.Task;
import org.minifaas.worker.sandbox.RunAccount;
import org.minifaas.worker.sandbox.Sandbox;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one task from repository to result files: clone ({@link GitSource}), compile unless the binary cache
 * has the tree ({@link GoBuilder}, {@link BinaryCache}), run ({@link FunctionRunner}); every step that runs
 * code of the repository runs in the {@link Sandbox}. Every failure ends the task as FINISHED_WITH_ERRORS
 * with a one-line reason in error.txt; the task's directory is removed in every case.
 */
public final class TaskExecutor {
    private static final Logger log = LoggerFactory.getLogger(TaskExecutor.class);

    private final TaskWorkspace workspace;
    private final GitSource git;
    private final GoBuilder builder;
    private final FunctionRunner runner;
    private final BinaryCache binaries;
    private final Optional<RunAccount> buildAccount;
    /** Removes finished tasks' directories off the task's critical path, in order. */
    private final ExecutorService cleaner = Executors.newSingleThreadExecutor(Threads.daemon("task-cleanup"));

    /**
     * @param runAccount   the account functions run as (empty: the worker's own user)
     * @param buildAccount the account builds run as, owner of the shared Go caches (empty: the run account)
     */
    public TaskExecutor(WorkerConfig config, Sandbox sandbox, Optional<RunAccount> runAccount,
                        Optional<RunAccount> buildAccount) throws IOException {
        this.buildAccount = buildAccount.isPresent() ? buildAccount : runAccount;
        this.workspace = new TaskWorkspace(config.workDir(), config.cacheDir(), this.buildAccount);
        this.git = new GitSource(config, sandbox, runAccount, this.buildAccount);
        this.builder = new GoBuilder(config, sandbox, this.buildAccount, workspace);
        this.runner = new FunctionRunner(config, sandbox, runAccount);
        this.binaries = new BinaryCache(config.workDir().resolve("binaries"), config.binaryCacheEntries());
    }

    /** The directory tasks run in; exposed for the tests' leak checks. */
    public Path tasksDir() {
        return workspace.tasksDir();
    }

    /** Warms the shared Go build cache (at start, before taking tasks). */
    public void warm() throws IOException, InterruptedException {
        builder.warm();
    }

    /** Removes what tasks interrupted by a killed worker left (at start, before taking tasks). */
    public void removeLeftovers() {
        workspace.removeLeftovers();
    }

    public Execution execute(Task task) throws InterruptedException {
        Path dir = null;
        try {
            dir = workspace.create(task.taskId(), git.account());
            return executeIn(task, dir);
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
            cleaner.submit(() -> { }).get(2, TimeUnit.MINUTES);
        } catch (ExecutionException | TimeoutException e) {
            log.warn("task directories not removed yet: {}", e.toString());
        }
    }

    private Execution executeIn(Task task, Path dir) throws IOException, InterruptedException {
        Path src = dir.resolve("src");
        long start = System.nanoTime();
        GitSource.Cloned cloned = git.cloneInto(task.repoUrl(), src);
        long cloneMs = millisSince(start);
        if (cloned.error() != null) {
            return Execution.failed("clone failed: " + cloned.error());
        }
        Optional<String> problem = GoModule.problem(src);
        if (problem.isPresent()) {
            return Execution.failed(problem.get());
        }
        TaskWorkspace.handOver(src, buildAccount);
        start = System.nanoTime();
        String key = builder.cacheKey(cloned.treeId());
        Optional<Path> cached = binaries.get(key);
        Path binary;
        if (cached.isPresent()) {
            binary = cached.get();
        } else {
            GoBuilder.Built built = builder.build(dir);
            if (built.failure() != null) {
                return built.failure();
            }
            // the build's sandbox has ended: nothing can change its output while the worker copies it
            binary = binaries.put(key, built.binary()).orElse(BinaryCache.copyOut(built.binary(), dir.resolve("function")));
        }
        long buildMs = millisSince(start);
        start = System.nanoTime();
        Execution execution = runner.run(task, src, binary);
        log.info("task {} timings: clone {} ms, build {} ms{}, run {} ms: {}", task.taskId(), cloneMs, buildMs,
                cached.isPresent() ? " (cached)" : "", millisSince(start), execution.reason());
        return execution;
    }

    private static long millisSince(long startNanos) {
        return (System.nanoTime() - startNanos) / 1_000_000;
    }
}
