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
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Installed dependency trees (a Node.js {@code node_modules}, Python packages) by key: the hash of the lockfile and
 * the runtime's version, so the next task with the same lockfile skips the install. Only the worker writes here,
 * copying a finished install's output after its sandbox ended: the copy is the worker's, directories and files
 * read-only to others, symbolic links kept as links (never followed by the worker; inside a function's sandbox
 * they resolve in its own view). Other special files are left out. Trees larger than {@link #MAX_BYTES} or with
 * more than {@link #MAX_ENTRIES} entries are used by their task but not kept. Keeps the most recently used {@code
 * capacity}.
 */
final class DependencyCache {
    private static final Logger log = LoggerFactory.getLogger(DependencyCache.class);
    private static final String KEY = "[0-9a-f]{64}";
    static final long MAX_BYTES = 512L * 1024 * 1024;
    static final long MAX_ENTRIES = 100_000;

    private final Path dir;
    private final int capacity;

    DependencyCache(Path dir, int capacity) throws IOException {
        this.dir = dir;
        this.capacity = capacity;
        LeastRecentlyUsed.open(dir);
    }

    /** The kept tree of a key, or empty. */
    Optional<Path> get(String key) {
        if (capacity == 0 || key == null || !key.matches(KEY)) {
            return Optional.empty();
        }
        Path entry = dir.resolve(key);
        if (!Files.isDirectory(entry.resolve("tree"), LinkOption.NOFOLLOW_LINKS)) {
            return Optional.empty();
        }
        try {
            Files.setLastModifiedTime(entry, FileTime.fromMillis(System.currentTimeMillis()));
        } catch (IOException e) {
            // only the eviction order suffers
        }
        return Optional.of(entry.resolve("tree"));
    }

    /**
     * Copies an installed tree in under its key (made whole before it appears); the kept copy, or empty when it is
     * too large or not a directory. Call only once the sandbox that wrote {@code tree} has ended.
     */
    Optional<Path> put(String key, Path tree) throws IOException {
        if (capacity == 0 || !key.matches(KEY) || !Files.isDirectory(tree, LinkOption.NOFOLLOW_LINKS)) {
            return Optional.empty();
        }
        Optional<Path> existing = get(key);
        if (existing.isPresent()) {
            return existing;
        }
        if (!small(tree)) {
            log.info("dependencies of {} not kept: more than {} MiB or {} entries", key, MAX_BYTES >> 20, MAX_ENTRIES);
            return Optional.empty();
        }
        Path incoming = Files.createTempDirectory(dir, "incoming-");
        try {
            Files.setPosixFilePermissions(incoming, PosixFilePermissions.fromString("rwxr-xr-x"));
            copyTree(tree, incoming.resolve("tree"));
            try {
                Files.move(incoming, dir.resolve(key), StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException e) {
                // another task kept the same tree first
                return get(key);
            }
            incoming = null;
        } finally {
            if (incoming != null) {
                TaskWorkspace.remove(incoming);
            }
        }
        try {
            LeastRecentlyUsed.keep(dir, capacity, LeastRecentlyUsed::evict);
        } catch (IOException e) {
            log.warn("dependency cache eviction failed: {}", e.toString());
        }
        return get(key);
    }

    private static boolean small(Path tree) throws IOException {
        AtomicLong bytes = new AtomicLong();
        AtomicLong entries = new AtomicLong();
        try (Stream<Path> walk = Files.walk(tree)) {
            for (Path p : (Iterable<Path>) walk::iterator) {
                BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                if (bytes.addAndGet(a.size()) > MAX_BYTES || entries.incrementAndGet() > MAX_ENTRIES) {
                    return false;
                }
            }
        }
        return true;
    }

    /** Directories and regular files copied (the worker's, readable by all), links as links, nothing else. */
    private static void copyTree(Path from, Path to) throws IOException {
        Files.walkFileTree(from, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes attrs) throws IOException {
                Path target = to.resolve(from.relativize(d).toString());
                Files.createDirectories(target);
                Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rwxr-xr-x"));
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path f, BasicFileAttributes attrs) throws IOException {
                Path target = to.resolve(from.relativize(f).toString());
                if (attrs.isSymbolicLink()) {
                    Files.createSymbolicLink(target, Files.readSymbolicLink(f));
                } else if (attrs.isRegularFile()) {
                    Files.copy(f, target, LinkOption.NOFOLLOW_LINKS);
                    boolean executable = Files.isExecutable(f);
                    Files.setPosixFilePermissions(
                            target, PosixFilePermissions.fromString(executable ? "rwxr-xr-x" : "rw-r--r--"));
                }
                return FileVisitResult.CONTINUE;
            }
        });
    }
}
