package org.minifaas.worker;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.minifaas.common.Threads;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.api.errors.InvalidRemoteException;
import org.eclipse.jgit.lib.EmptyProgressMonitor;
import org.eclipse.jgit.lib.ObjectId;
import org.minifaas.common.model.Task;
import org.minifaas.common.model.TaskStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one task from repository to result files: shallow clone, {@code go mod download} (when the
 * repository has a go.mod), compile {@code main.go}, run it with the task's parameters. Every step
 * that fails ends the task as FINISHED_WITH_ERRORS with a one-line reason in {@code error.txt}; the
 * task's directory is removed in every case.
 */
public final class TaskExecutor {
    private static final Logger log = LoggerFactory.getLogger(TaskExecutor.class);
    static final Set<String> CLONE_SCHEMES = Set.of("http", "https", "git");
    /** Environment variables handed through from the worker to the Go tool (proxies, module settings). */
    private static final List<String> PASSED_ENV = List.of("GOPROXY", "GOSUMDB", "GONOSUMDB", "GOPRIVATE",
            "GONOPROXY", "GOFLAGS", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy");

    private final WorkerConfig config;
    private final Optional<RunAccount> account;
    private final Optional<RunAccount> builder;
    private final ProcessRunner runner;
    private final ProcessRunner buildRunner;
    private final Path tasksDir;
    private final Path cacheDir;
    private final BinaryCache binaries;
    /** Removes finished tasks' directories off the task's critical path, in order. */
    private final ExecutorService cleaner = Executors.newSingleThreadExecutor(Threads.daemon("task-cleanup"));

    /** The end of a task: its final status and the files to store. */
    public record Execution(TaskStatus status, Map<String, byte[]> files, String reason) {
    }

    /** Functions and their builds run as {@code account}. */
    public TaskExecutor(WorkerConfig config, Optional<RunAccount> account) throws IOException {
        this(config, account, Optional.empty());
    }

    /**
     * Functions run as {@code account}; with a {@code builder}, {@code go mod download} and {@code go build}
     * run as that other account, which alone owns the Go caches: a function cannot poison what later
     * builds of other users' functions will use.
     */
    public TaskExecutor(WorkerConfig config, Optional<RunAccount> account, Optional<RunAccount> builder)
            throws IOException {
        this.config = config;
        this.account = account;
        this.builder = account.isPresent() ? builder : Optional.empty();
        ProcessRunner.Limits limits = new ProcessRunner.Limits(config.maxProcesses(), config.maxFileBytes());
        this.runner = new ProcessRunner(account, limits);
        this.buildRunner = this.builder.isPresent() ? new ProcessRunner(this.builder, limits) : runner;
        this.tasksDir = config.workDir().resolve("tasks");
        Optional<RunAccount> cacheOwner = this.builder.isPresent() ? this.builder : account;
        // one cache per owner: a cache another account filled must never be handed over by walking it
        this.cacheDir = config.workDir().resolve(cacheOwner.map(a -> "cache-" + a.uid()).orElse("cache"));
        Files.createDirectories(config.workDir());
        requireOwnDirectory(config.workDir());
        Files.createDirectories(tasksDir);
        Files.createDirectories(cacheDir);
        // others may traverse into their own task directory but not list anyone else's
        Files.setPosixFilePermissions(config.workDir(), PosixFilePermissions.fromString("rwx--x--x"));
        Files.setPosixFilePermissions(tasksDir, PosixFilePermissions.fromString("rwx--x--x"));
        if (cacheOwner.isPresent()) {
            // only the top: the Go tool creates what is below as that account (never walked as root)
            own(cacheDir, cacheOwner.get());
            Files.setPosixFilePermissions(cacheDir, PosixFilePermissions.fromString("rwx------"));
        }
        this.binaries = new BinaryCache(config.workDir().resolve("binaries"), config.binaryCacheEntries());
        if (account.isPresent()) {
            requireTraversable(config.workDir().toAbsolutePath());
        }
    }

    /**
     * The work directory must belong to the worker's user and be writable by nobody else: the worker
     * creates, hands over and removes directories there as root.
     */
    private static void requireOwnDirectory(Path dir) throws IOException {
        Object owner = Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS);
        Object self = Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        var perms = Files.getPosixFilePermissions(dir, LinkOption.NOFOLLOW_LINKS);
        if (Files.isSymbolicLink(dir) || !owner.equals(self) || perms.contains(PosixFilePermission.GROUP_WRITE)
                || perms.contains(PosixFilePermission.OTHERS_WRITE)) {
            throw new IllegalStateException("WORKER_WORK_DIR=" + dir + " must be a directory of the worker's own user "
                    + "that nobody else can write (remove it to have it created, or choose another)");
        }
    }

    /** The run account must be able to reach its task directories through every parent directory. */
    private static void requireTraversable(Path dir) throws IOException {
        for (Path p = dir.getParent(); p != null; p = p.getParent()) {
            if (!Files.getPosixFilePermissions(p).contains(PosixFilePermission.OTHERS_EXECUTE)) {
                throw new IllegalStateException("WORKER_WORK_DIR=" + dir + " is not reachable by RUN_AS_USER: "
                        + p + " is not searchable by others (chmod o+x " + p + ", or choose another directory)");
            }
        }
    }

    /** The directory a task runs in; exposed for the tests' leak checks. */
    public Path tasksDir() {
        return tasksDir;
    }

    public Execution execute(Task task) throws InterruptedException {
        Path dir = tasksDir.resolve(task.taskId().toString());
        try {
            return executeIn(task, dir);
        } catch (IOException e) {
            log.warn("task {} failed in the worker: {}", task.taskId(), e.toString());
            return failed("", "", "worker error: " + e.getMessage());
        } finally {
            cleaner.submit(() -> {
                try {
                    remove(dir);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
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
        remove(dir); // leftovers of an earlier attempt of the same task
        Path repo = dir.resolve("repo");
        Path home = dir.resolve("home");
        Path tmp = dir.resolve("tmp");
        Files.createDirectories(repo);
        Files.createDirectories(home);
        Files.createDirectories(tmp);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));

        long cloneStart = System.nanoTime();
        Cloned cloned = clone(task.repoUrl(), repo);
        long cloneMs = (System.nanoTime() - cloneStart) / 1_000_000;
        if (cloned.error() != null) {
            return failed("", "", "clone failed: " + cloned.error());
        }
        if (!Files.isRegularFile(repo.resolve("main.go"), LinkOption.NOFOLLOW_LINKS)) {
            return failed("", "", "no main.go in the repository root");
        }
        long buildStart = System.nanoTime();
        Optional<Path> cached = binaries.get(cloned.treeId());
        Path binary = cached.orElse(dir.resolve("bin").resolve("function"));
        if (cached.isEmpty()) {
            Path buildHome = dir.resolve("build");
            Files.createDirectories(buildHome.resolve("tmp"));
            Files.createDirectories(binary.getParent());
            if (builder.isPresent()) {
                // the builder gets the sources, its home and the output folder; the task folder stays root's,
                // searchable, so it can reach them
                handOver(repo, builder.get());
                handOver(buildHome, builder.get());
                handOver(binary.getParent(), builder.get());
                Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx--x--x"));
            } else {
                handOver(dir);
            }
            Execution buildFailure = build(repo, binary, buildEnvironment(buildHome));
            if (buildFailure != null) {
                handOver(dir);
                return buildFailure;
            }
            // everything to the run account: the builder's commands have ended and their processes are gone
            handOver(dir);
            binaries.put(cloned.treeId(), target -> copyOut(binary, target));
        } else {
            handOver(dir);
        }
        long buildMs = (System.nanoTime() - buildStart) / 1_000_000;
        Map<String, String> env = runEnvironment(home, tmp);

        List<String> command = new ArrayList<>();
        command.add(binary.toString());
        command.addAll(task.parameters());
        ProcessRunner.Outcome run = runner.run(command, repo, env, config.runTimeout(), config.outputCapBytes());
        log.info("task {} timings: clone {} ms, build {} ms{}, run {} ms (exit {}, timed out {})",
                task.taskId(), cloneMs, buildMs, cached.isPresent() ? " (cached)" : "", run.elapsed().toMillis(),
                run.exitCode(), run.timedOut());
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("stdout.txt", run.stdout());
        files.put("stderr.txt", run.stderr());
        if (run.timedOut()) {
            files.put("error.txt", line("timed out after " + config.runTimeout().toSeconds() + " s"));
            return new Execution(TaskStatus.FINISHED_WITH_ERRORS, files, "timed out");
        }
        if (run.exitCode() != 0) {
            files.put("error.txt", line("exit code " + run.exitCode()));
            return new Execution(TaskStatus.FINISHED_WITH_ERRORS, files, "exit code " + run.exitCode());
        }
        return new Execution(TaskStatus.FINISHED, files, "exit code 0");
    }

    /**
     * {@code go mod download} (with a go.mod) and {@code go build}, as the run account. Compiling first and
     * then running the binary is what {@code go run main.go} does internally; doing the two steps ourselves
     * gives the function's own exit code and leaves no {@code go} process in between.
     *
     * @return the failure, or null when the binary was built
     */
    private Execution build(Path repo, Path binary, Map<String, String> env) throws IOException, InterruptedException {
        StringBuilder buildLog = new StringBuilder();
        if (Files.isRegularFile(repo.resolve("go.mod"), LinkOption.NOFOLLOW_LINKS)) {
            ProcessRunner.Outcome download = buildRunner.run(List.of(config.goBinary(), "mod", "download"), repo, env,
                    config.buildTimeout(), config.outputCapBytes());
            buildLog.append(text(download.stderr()));
            if (download.timedOut()) {
                return failed("", buildLog.toString(),
                        "go mod download timed out after " + config.buildTimeout().toSeconds() + " s");
            }
            if (download.exitCode() != 0) {
                return failed(text(download.stdout()), buildLog.toString(),
                        "go mod download failed with exit code " + download.exitCode());
            }
        }
        ProcessRunner.Outcome build = buildRunner.run(
                List.of(config.goBinary(), "build", "-o", binary.toString(), "main.go"), repo, env,
                config.buildTimeout(), config.outputCapBytes());
        buildLog.append(text(build.stderr()));
        if (build.timedOut()) {
            return failed("", buildLog.toString(),
                    "compilation timed out after " + config.buildTimeout().toSeconds() + " s");
        }
        if (build.exitCode() != 0) {
            return failed(text(build.stdout()), buildLog.toString(),
                    "compilation failed with exit code " + build.exitCode());
        }
        return null;
    }

    /** A clone's outcome: the tree id of the checked-out commit, or the reason it failed. */
    private record Cloned(String treeId, String error) {
        static Cloned failure(String error) {
            return new Cloned(null, error);
        }
    }

    /** Shallow clone of the default branch. */
    private Cloned clone(String url, Path into) throws InterruptedException {
        String scheme;
        try {
            scheme = String.valueOf(URI.create(url).getScheme()).toLowerCase(Locale.ROOT);
        } catch (IllegalArgumentException e) {
            return Cloned.failure("invalid repository URL");
        }
        if (!CLONE_SCHEMES.contains(scheme)) {
            return Cloned.failure("repository URL scheme '" + scheme + "' is not allowed");
        }
        long deadline = System.nanoTime() + config.cloneTimeout().toNanos();
        try (Git git = Git.cloneRepository()
                .setURI(url)
                .setDirectory(into.toFile())
                .setDepth(1)
                .setCloneAllBranches(false)
                .setNoTags()
                .setTimeout((int) Math.max(1, config.cloneTimeout().toSeconds()))
                .setProgressMonitor(new EmptyProgressMonitor() {
                    @Override
                    public boolean isCancelled() {
                        return System.nanoTime() > deadline || Thread.currentThread().isInterrupted();
                    }
                })
                .call()) {
            ObjectId tree = git.getRepository().resolve("HEAD^{tree}");
            return new Cloned(tree == null ? "" : tree.name(), null);
        } catch (Exception e) {
            if (Thread.currentThread().isInterrupted()) {
                throw new InterruptedException("clone interrupted");
            }
            if (System.nanoTime() > deadline) {
                return Cloned.failure("timed out after " + config.cloneTimeout().toSeconds() + " s");
            }
            if (e instanceof InvalidRemoteException) {
                return Cloned.failure("repository not found (or not a Git repository): " + url);
            }
            String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            return Cloned.failure(message.replaceAll("\\s+", " "));
        }
    }

    /** The function's environment: nothing of the worker's, a home and a temporary folder of its task. */
    private Map<String, String> runEnvironment(Path home, Path tmp) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("PATH", "/usr/local/bin:/usr/bin:/bin");
        env.put("HOME", home.toString());
        env.put("TMPDIR", tmp.toString());
        env.put("LANG", "C.UTF-8");
        return env;
    }

    /** The Go tool's environment: the shared caches, a home of the task, the worker's proxy settings. */
    private Map<String, String> buildEnvironment(Path buildHome) {
        Map<String, String> env = new LinkedHashMap<>();
        for (String name : PASSED_ENV) {
            String v = System.getenv(name);
            if (v != null) {
                env.put(name, v);
            }
        }
        env.put("PATH", "/usr/local/go/bin:/usr/lib/go/bin:/usr/local/bin:/usr/bin:/bin");
        env.put("HOME", buildHome.toString());
        env.put("TMPDIR", buildHome.resolve("tmp").toString());
        env.put("GOTMPDIR", buildHome.resolve("tmp").toString());
        env.put("GOPATH", cacheDir.resolve("gopath").toString());
        env.put("GOCACHE", cacheDir.resolve("gocache").toString());
        env.put("GOMODCACHE", cacheDir.resolve("gomodcache").toString());
        env.put("GOTOOLCHAIN", "local");
        env.put("GOTELEMETRY", "off");
        env.put("LANG", "C.UTF-8");
        return env;
    }

    /**
     * Hands a task's directory to the run account: contents first, the directory itself last. Until
     * that last step the directory is root's alone (0700), so no process of the run account can swap
     * a directory for a link under the walk; links themselves are re-owned, never followed.
     */
    private void handOver(Path root) throws IOException {
        if (account.isPresent()) {
            handOver(root, account.get());
        }
    }

    private static void handOver(Path root, RunAccount a) throws IOException {
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path f, BasicFileAttributes attrs) throws IOException {
                own(f, a);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                if (e != null) {
                    throw e;
                }
                own(d, a);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    /**
     * Copies a file of a task's directory out of it. The run account can change that directory at any
     * moment, so with one the copy runs as that account (into a file handed to it for that): root never
     * opens a path the account controls.
     */
    private void copyOut(Path from, Path target) throws IOException, InterruptedException {
        if (account.isEmpty()) {
            Files.copy(from, target, StandardCopyOption.REPLACE_EXISTING, LinkOption.NOFOLLOW_LINKS);
            return;
        }
        own(target, account.get());
        ProcessRunner.Outcome copy = runner.run(List.of("cp", "--", from.toString(), target.toString()), tasksDir,
                Map.of("PATH", "/usr/bin:/bin"), config.buildTimeout(), 4096);
        if (copy.exitCode() != 0) {
            throw new IOException("copy failed: " + new String(copy.stderr(), StandardCharsets.UTF_8).trim());
        }
    }

    private static void own(Path p, RunAccount a) throws IOException {
        Files.setAttribute(p, "unix:uid", a.uid(), LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(p, "unix:gid", a.gid(), LinkOption.NOFOLLOW_LINKS);
    }

    /**
     * Removes a task's directory. Once handed over, its contents are deleted by the run account itself
     * (it can only remove what it could remove anyway; root never walks a tree that account can change),
     * then root removes the emptied directory, whose parent only root can write.
     */
    private void remove(Path dir) throws InterruptedException {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        boolean handedOver;
        try {
            handedOver = account.isPresent()
                    && !Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS).equals(0);
        } catch (IOException e) {
            handedOver = account.isPresent();
        }
        if (!handedOver) {
            deleteTree(dir);
            return;
        }
        try {
            List<String> command = new ArrayList<>(List.of("rm", "-rf", "--one-file-system", "--"));
            try (var entries = Files.list(dir)) {
                entries.forEach(p -> command.add(p.toString()));
            }
            if (command.size() > 4) {
                runner.run(command, tasksDir, Map.of("PATH", "/usr/bin:/bin"), config.buildTimeout(), 4096);
            }
            Files.delete(dir);
        } catch (IOException e) {
            log.warn("could not remove {}: {}", dir, e.toString());
        }
    }

    private static void deleteTree(Path root) {
        if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try {
            Files.walkFileTree(root, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes attrs) {
                    d.toFile().setWritable(true, true);
                    d.toFile().setExecutable(true, true);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFile(Path f, BasicFileAttributes attrs) throws IOException {
                    Files.deleteIfExists(f);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                    Files.deleteIfExists(d);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            log.warn("could not remove {}: {}", root, e.toString());
        }
    }

    private static Execution failed(String stdout, String stderr, String reason) {
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("stdout.txt", stdout.getBytes(StandardCharsets.UTF_8));
        files.put("stderr.txt", stderr.getBytes(StandardCharsets.UTF_8));
        files.put("error.txt", line(reason));
        return new Execution(TaskStatus.FINISHED_WITH_ERRORS, files, reason);
    }

    private static byte[] line(String s) {
        return (s + "\n").getBytes(StandardCharsets.UTF_8);
    }

    private static String text(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }
}
