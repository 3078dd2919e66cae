package org.minifaas.worker;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Commits run before, so that a task naming one again runs without a clone: for each commit (and runtime settings),
 * the runtime and toolchain that ran it, the key of what the runtime prepared (a binary in the {@link BinaryCache},
 * dependencies in the {@link DependencyCache}) and a copy of its checked-out files (the function's working
 * directory, without Git's {@code .git}). Only small source trees are kept (at most {@link #MAX_SOURCE_BYTES} in {@link #MAX_SOURCE_FILES}
 * regular files and directories, no links); others are cloned every time. Written only by the worker, from a tree it
 * checked out itself; functions get the copy mounted read-only. Keeps the most recently used {@code capacity}.
 */
final class KnownCommits {
    private static final Logger log = LoggerFactory.getLogger(KnownCommits.class);
    private static final String KEY = "[0-9a-f]{64}";
    private static final String NONE = "-";
    static final long MAX_SOURCE_BYTES = 1024 * 1024;
    static final int MAX_SOURCE_FILES = 256;

    private final Path dir;
    private final int capacity;

    KnownCommits(Path dir, int capacity) throws IOException {
        this.dir = dir;
        this.capacity = capacity;
        LeastRecentlyUsed.open(dir);
    }

    /**
     * What is kept of a commit: its runtime and toolchain, the key of what was prepared for it (null: nothing was)
     * and the source tree's copy.
     */
    record Known(String runtime, String toolchain, String artifactKey, Path source) {}

    /**
     * The commit kept for {@code repository}, or empty: a commit id is only trusted for the repository it was cloned
     * from (another repository's server could name any id, and a task naming a full commit id is not checked with
     * the server at all).
     */
    Optional<Known> get(String commitKey, String repository) {
        if (capacity == 0 || !commitKey.matches(KEY)) {
            return Optional.empty();
        }
        Path entry = dir.resolve(commitKey);
        try {
            if (!Files.readString(entry.resolve("repository")).equals(repository)) {
                return Optional.empty();
            }
            String[] prepared = Files.readString(entry.resolve("prepared")).split("\n");
            Path source = entry.resolve("src");
            if (prepared.length < 3
                    || !(prepared[2].equals(NONE) || prepared[2].matches(KEY))
                    || !Files.isDirectory(source, LinkOption.NOFOLLOW_LINKS)) {
                return Optional.empty();
            }
            Files.setLastModifiedTime(entry, FileTime.fromMillis(System.currentTimeMillis()));
            return Optional.of(
                    new Known(prepared[0], prepared[1], prepared[2].equals(NONE) ? null : prepared[2], source));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /**
     * The repositories of the commits kept (a worker restarted on the same directory knows them again: its first
     * task of one of them needs no clone).
     */
    Set<String> repositories() {
        Set<String> repositories = new HashSet<>();
        try (Stream<Path> entries = Files.list(dir)) {
            entries.filter(e -> e.getFileName().toString().matches(KEY)).forEach(e -> {
                try {
                    repositories.add(Files.readString(e.resolve("repository")));
                } catch (IOException ignored) {
                    // half removed by an eviction: not known
                }
            });
        } catch (IOException e) {
            log.warn("kept commits not listed: {}", e.toString());
        }
        return repositories;
    }

    /**
     * Keeps a commit of {@code repository}: how it was run ({@code plan}) and a copy of {@code src} when it is small
     * enough, each of the top-level {@code emptied} names in it an empty directory (a runtime's mount point, such as
     * node_modules, whose content comes from its cache); false when not kept.
     */
    boolean remember(String commitKey, String repository, FunctionRuntime.Plan plan, Path src, Set<String> emptied) {
        String artifactKey = plan.artifactKey() == null ? NONE : plan.artifactKey();
        if (capacity == 0
                || !commitKey.matches(KEY)
                || !(artifactKey.equals(NONE) || artifactKey.matches(KEY))
                || !plan.runtime().matches("[a-z]+")
                || !plan.toolchain().matches("[A-Za-z0-9.+_-]+")
                || Files.isDirectory(dir.resolve(commitKey), LinkOption.NOFOLLOW_LINKS)) {
            return false;
        }
        Path incoming = null;
        try {
            if (!small(src, emptied)) {
                return false;
            }
            incoming = Files.createTempDirectory(dir, "incoming-");
            Files.setPosixFilePermissions(incoming, PosixFilePermissions.fromString("rwxr-xr-x"));
            copyTree(src, incoming.resolve("src"), emptied);
            Files.writeString(
                    incoming.resolve("prepared"), plan.runtime() + "\n" + plan.toolchain() + "\n" + artifactKey + "\n");
            Files.writeString(incoming.resolve("repository"), repository);
            Files.move(incoming, dir.resolve(commitKey), StandardCopyOption.ATOMIC_MOVE);
            incoming = null;
            evict();
            return true;
        } catch (IOException e) {
            log.warn("commit {} not kept: {}", commitKey, e.toString());
            return false;
        } finally {
            if (incoming != null) {
                TaskWorkspace.remove(incoming);
            }
        }
    }

    /** Regular files and directories only (Git's own {@code .git} aside), within the size and count. */
    private static boolean small(Path src, Set<String> emptied) throws IOException {
        AtomicLong bytes = new AtomicLong();
        AtomicLong entries = new AtomicLong();
        Path git = src.resolve(".git");
        try (Stream<Path> walk = Files.walk(src)) {
            for (Path p : (Iterable<Path>) walk::iterator) {
                if (p.startsWith(git) || skipped(src, p, emptied)) {
                    continue;
                }
                BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                if (!a.isRegularFile() && !a.isDirectory()) {
                    return false;
                }
                if (bytes.addAndGet(a.size()) > MAX_SOURCE_BYTES || entries.incrementAndGet() > MAX_SOURCE_FILES) {
                    return false;
                }
            }
        }
        return true;
    }

    /** A copy owned by the worker, readable by all (it is mounted read-only into the function's sandbox). */
    private static void copyTree(Path from, Path to, Set<String> emptied) throws IOException {
        Files.walkFileTree(from, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes attrs) throws IOException {
                if (d.equals(from.resolve(".git"))) {
                    return FileVisitResult.SKIP_SUBTREE; // Git's metadata: not the function's files
                }
                Path target = to.resolve(from.relativize(d).toString());
                Files.createDirectories(target);
                Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rwxr-xr-x"));
                return skipped(from, d, emptied) ? FileVisitResult.SKIP_SUBTREE : FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path f, BasicFileAttributes attrs) throws IOException {
                if (skipped(from, f, emptied)) {
                    return FileVisitResult.CONTINUE;
                }
                if (!attrs.isRegularFile()) {
                    throw new IOException("not a regular file: " + f);
                }
                Path target = to.resolve(from.relativize(f).toString());
                Files.copy(f, target, LinkOption.NOFOLLOW_LINKS);
                boolean executable = Files.isExecutable(f);
                Files.setPosixFilePermissions(
                        target, PosixFilePermissions.fromString(executable ? "rwxr-xr-x" : "rw-r--r--"));
                return FileVisitResult.CONTINUE;
            }
        });
    }

    /** Whether {@code p} is one of the top-level {@code emptied} names of {@code root} or inside one. */
    private static boolean skipped(Path root, Path p, Set<String> emptied) {
        for (String name : emptied) {
            if (p.startsWith(root.resolve(name))) {
                return true;
            }
        }
        return false;
    }

    private void evict() throws IOException {
        LeastRecentlyUsed.keep(dir, capacity, LeastRecentlyUsed::evict);
    }
}
