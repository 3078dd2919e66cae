package org.minifaas.worker;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Compiled functions by Git tree id: the same source tree compiles to the same program, so a task
 * whose repository tree was built before skips {@code go mod download} and {@code go build}. The
 * cache belongs to the worker's user (functions may run the binaries, never change them), and keeps
 * the most recently used {@code capacity} entries.
 */
final class BinaryCache {
    private static final Logger log = LoggerFactory.getLogger(BinaryCache.class);

    private final Path dir;
    private final int capacity;

    BinaryCache(Path dir, int capacity) throws IOException {
        this.dir = dir;
        this.capacity = capacity;
        Files.createDirectories(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx--x--x"));
    }

    /** The cached binary of a tree, or empty. */
    Optional<Path> get(String treeId) {
        if (capacity == 0 || !treeId.matches("[0-9a-f]{40,64}")) {
            return Optional.empty();
        }
        Path binary = dir.resolve(treeId);
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

    /** Fills a new cache file (created here, under a name nobody can guess) with the built binary. */
    @FunctionalInterface
    interface Filler {
        void fill(Path target) throws IOException, InterruptedException;
    }

    /**
     * Takes a freshly built binary in: {@code filler} writes it into a new file of this directory, which
     * then becomes read-only and takes the tree id's name atomically.
     */
    void put(String treeId, Filler filler) throws InterruptedException {
        if (capacity == 0 || !treeId.matches("[0-9a-f]{40,64}")) {
            return;
        }
        Path tmp = null;
        try {
            tmp = Files.createTempFile(dir, "incoming-", "");
            filler.fill(tmp);
            Files.setAttribute(tmp, "unix:uid", Files.getAttribute(dir, "unix:uid"), LinkOption.NOFOLLOW_LINKS);
            Files.setAttribute(tmp, "unix:gid", Files.getAttribute(dir, "unix:gid"), LinkOption.NOFOLLOW_LINKS);
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
            Files.move(tmp, dir.resolve(treeId), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            tmp = null;
            evict();
        } catch (IOException e) {
            log.warn("could not cache the binary of tree {}: {}", treeId, e.toString());
        } finally {
            if (tmp != null) {
                tmp.toFile().delete();
            }
        }
    }

    private void evict() throws IOException {
        List<Path> entries;
        try (Stream<Path> s = Files.list(dir)) {
            entries = s.filter(p -> !p.getFileName().toString().startsWith("incoming-")).toList();
        }
        if (entries.size() <= capacity) {
            return;
        }
        entries.stream()
                .sorted(Comparator.comparing(p -> p.toFile().lastModified()))
                .limit(entries.size() - capacity)
                .forEach(p -> p.toFile().delete());
    }
}
