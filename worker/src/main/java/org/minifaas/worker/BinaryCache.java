package org.minifaas.worker;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Compiled functions by Git tree id (and build settings): the same source tree compiles to the same
 * program, so a task whose tree was built before skips the build. Only the worker writes here, copying a
 * finished build's output; functions get their binary mounted read-only. Keeps the most recently used
 * {@code capacity} entries.
 */
final class BinaryCache {
    private static final Logger log = LoggerFactory.getLogger(BinaryCache.class);
    private static final String KEY = "[0-9a-f]{40,64}(-cgo)?";
    /** Larger programs are run, not kept: 40 bytes of Go can compile to half a gigabyte (a large array literal). */
    static final long MAX_ENTRY_BYTES = 64L * 1024 * 1024;

    private final Path dir;
    private final int capacity;

    BinaryCache(Path dir, int capacity) throws IOException {
        this.dir = dir;
        this.capacity = capacity;
        LeastRecentlyUsed.open(dir);
    }

    /** The cached binary of a key, or empty. */
    Optional<Path> get(String key) {
        if (capacity == 0 || !key.matches(KEY)) {
            return Optional.empty();
        }
        Path binary = dir.resolve(key);
        if (!Files.isRegularFile(binary, LinkOption.NOFOLLOW_LINKS)) {
            return Optional.empty();
        }
        try {
            Files.setLastModifiedTime(binary, FileTime.fromMillis(System.currentTimeMillis()));
        } catch (IOException e) {
            // only the eviction order suffers
        }
        return Optional.of(binary);
    }

    /** Copies a built binary in under its key (atomically); the cached copy, or empty when not cached. */
    Optional<Path> put(String key, Path built) throws IOException {
        if (capacity == 0
                || !key.matches(KEY)
                || Files.readAttributes(built, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
                                .size()
                        > MAX_ENTRY_BYTES) {
            return Optional.empty();
        }
        Path tmp = copyOut(built, Files.createTempFile(dir, "incoming-", ""));
        Path target = dir.resolve(key);
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        try {
            evict();
        } catch (IOException e) {
            log.warn("binary cache eviction failed: {}", e.toString());
        }
        return Optional.of(target);
    }

    /** A copy of a regular file (never a link's target), the worker's own, executable and read-only to others. */
    static Path copyOut(Path from, Path to) throws IOException {
        if (!Files.isRegularFile(from, LinkOption.NOFOLLOW_LINKS)) {
            throw new IOException("not a regular file: " + from);
        }
        Files.copy(from, to, StandardCopyOption.REPLACE_EXISTING, LinkOption.NOFOLLOW_LINKS);
        Files.setPosixFilePermissions(to, PosixFilePermissions.fromString("rwxr-xr-x"));
        return to;
    }

    private void evict() throws IOException {
        LeastRecentlyUsed.keep(dir, capacity, p -> p.toFile().delete());
    }
}
