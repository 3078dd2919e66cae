package org.minifaas.worker;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Stream;
import org.minifaas.worker.sandbox.RunAccount;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker's directories: one per task ({@code tasks/<id>}: the clone in {@code src}, the build's output in
 * {@code out}, its layer of the Go build cache in {@code gocache}), and the shared caches. The worker (root) only touches a task's files while no sandboxed
 * process of that task is alive, so nothing can swap a path under it; sandboxes never see another task's
 * directory. Directories are searchable but not listable by others: bubblewrap, running as the sandbox's
 * account, must reach the paths it mounts.
 */
final class TaskWorkspace {
    private static final Logger log = LoggerFactory.getLogger(TaskWorkspace.class);

    private final Path tasksDir;
    /** The worker's own warm-up builds, beside the tasks' directories. */
    private final Path warmingDir;

    private final GoBuildCache goBuildCache;
    private final Path goModCache;

    TaskWorkspace(Path workDir, Path cacheDir, Optional<RunAccount> cacheOwner) throws IOException {
        Files.createDirectories(workDir);
        requireOwnDirectory(workDir);
        this.tasksDir = workDir.resolve("tasks");
        this.warmingDir = workDir.resolve("warming");
        Files.createDirectories(tasksDir);
        Files.createDirectories(warmingDir);
        Files.createDirectories(cacheDir);
        for (Path dir : List.of(workDir, tasksDir, warmingDir, cacheDir)) {
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx--x--x"));
        }
        this.goBuildCache = new GoBuildCache(cacheDir.resolve("go-build"));
        this.goModCache = cacheDir.resolve("gomod");
        Files.createDirectories(goModCache);
        if (cacheOwner.isPresent()) {
            // only the top: what is below was made by that account's downloads (never walked as root)
            own(goModCache, cacheOwner.get());
        }
        Files.setPosixFilePermissions(goModCache, PosixFilePermissions.fromString("rwx------"));
        if (cacheOwner.isPresent()) {
            requireTraversable(workDir.toAbsolutePath());
            requireTraversable(cacheDir.toAbsolutePath());
        }
    }

    Path tasksDir() {
        return tasksDir;
    }

    GoBuildCache goBuildCache() {
        return goBuildCache;
    }

    Path goModCache() {
        return goModCache;
    }

    /** A task's directory, with an empty {@code src} of {@code cloner}, the account the clone runs as. */
    Path create(UUID taskId, Optional<RunAccount> cloner) throws IOException {
        return create(tasksDir.resolve(taskId.toString()), cloner);
    }

    /** A directory like a task's for the worker's own warm-up, outside the tasks' directory. */
    Path createWarming(Optional<RunAccount> account) throws IOException {
        return create(warmingDir.resolve(UUID.randomUUID().toString()), account);
    }

    private static Path create(Path dir, Optional<RunAccount> cloner) throws IOException {
        remove(dir); // leftovers of an earlier attempt of the same task
        Files.createDirectory(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx--x--x"));
        directoryOf(dir.resolve("src"), cloner);
        return dir;
    }

    /** Removes the directories of tasks that were running when a worker was killed. */
    void removeLeftovers() {
        for (Path parent : List.of(tasksDir, warmingDir)) {
            try (Stream<Path> s = Files.list(parent)) {
                for (Path dir : s.toList()) {
                    log.info("removing the directory of an interrupted task or warm-up: {}", dir.getFileName());
                    remove(dir);
                }
            } catch (IOException e) {
                log.warn("could not list {}: {}", parent, e.toString());
            }
        }
    }

    /**
     * Gives a tree to an account, contents first, the top last, readable by all (the function's account reads
     * what the build's account owns), links re-owned, never followed. Safe as root because the clone's sandbox
     * has ended and no other sandbox can reach this task's directory: nothing changes the tree during the walk.
     */
    static void handOver(Path root, Optional<RunAccount> account) throws IOException {
        if (account.isEmpty()) {
            return;
        }
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path f, BasicFileAttributes attrs) throws IOException {
                if (attrs.isRegularFile()) {
                    boolean executable = Files.isExecutable(f);
                    Files.setPosixFilePermissions(
                            f, PosixFilePermissions.fromString(executable ? "rwxr-xr-x" : "rw-r--r--"));
                }
                own(f, account.get());
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                if (e != null) {
                    throw e;
                }
                Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwxr-xr-x"));
                own(d, account.get());
                return FileVisitResult.CONTINUE;
            }
        });
    }

    /** An empty directory of an account, for a sandbox to write into. */
    static Path directoryOf(Path dir, Optional<RunAccount> account) throws IOException {
        Files.createDirectory(dir);
        if (account.isPresent()) {
            own(dir, account.get());
        }
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        return dir;
    }

    /**
     * Deletes a task's directory, links themselves and never what they point to. Called once every sandbox of
     * the task has ended, so nothing changes the tree during the walk.
     */
    static void remove(Path root) {
        if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try {
            Files.walkFileTree(root, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes attrs) throws IOException {
                    // a build may have left read-only directories (the module cache's habit)
                    Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwx------"));
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
            // a tree too deep for a path (an install script can nest directories past PATH_MAX): rm walks it by
            // directory handles
            removeWithRm(root, e);
        }
    }

    private static void removeWithRm(Path root, IOException why) {
        try {
            Process rm = new ProcessBuilder("rm", "-rf", "--one-file-system", "--", root.toString())
                    .redirectErrorStream(true)
                    .start();
            String out = new String(rm.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            if (rm.waitFor() != 0 || Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
                log.warn("could not remove {}: {}; rm: {}", root, why.toString(), out.trim());
            }
        } catch (IOException e) {
            log.warn("could not remove {}: {}; rm: {}", root, why.toString(), e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            log.warn("could not remove {}: {} (interrupted)", root, why.toString());
        }
    }

    private static void own(Path p, RunAccount a) throws IOException {
        Files.setAttribute(p, "unix:uid", a.uid(), LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(p, "unix:gid", a.gid(), LinkOption.NOFOLLOW_LINKS);
    }

    /** The work directory must belong to the worker's user and be writable by nobody else. */
    private static void requireOwnDirectory(Path dir) throws IOException {
        Object owner = Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS);
        Object self = Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        var perms = Files.getPosixFilePermissions(dir, LinkOption.NOFOLLOW_LINKS);
        if (Files.isSymbolicLink(dir)
                || !owner.equals(self)
                || perms.contains(PosixFilePermission.GROUP_WRITE)
                || perms.contains(PosixFilePermission.OTHERS_WRITE)) {
            throw new IllegalStateException("WORKER_WORK_DIR=" + dir + " must be a directory of the worker's own user "
                    + "that nobody else can write (remove it to have it created, or choose another)");
        }
    }

    /** The sandbox's accounts must reach the directories they mount through every parent directory. */
    private static void requireTraversable(Path dir) throws IOException {
        for (Path p = dir.getParent(); p != null; p = p.getParent()) {
            if (!Files.getPosixFilePermissions(p).contains(PosixFilePermission.OTHERS_EXECUTE)) {
                throw new IllegalStateException(dir + " is not reachable by the sandbox's accounts: " + p
                        + " is not searchable by others (chmod o+x " + p + ", or choose another directory)");
            }
        }
    }
}
