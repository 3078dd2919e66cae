package org.minifaas.worker;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * The directories of the worker's caches: each the worker's own, and entries evicted by last use (modification time),
 * oldest out first. An entry is written as "incoming-*" and renamed into place whole.
 */
final class LeastRecentlyUsed {
    private LeastRecentlyUsed() {}

    /** A cache directory, made if missing (the worker's, others may only pass through), without half-written entries. */
    static void open(Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwx--x--x"));
        // entries a killed worker left half made
        try (Stream<Path> s = Files.list(dir)) {
            s.filter(p -> p.getFileName().toString().startsWith("incoming-")).forEach(TaskWorkspace::remove);
        }
    }

    /**
     * An entry out of the cache at once (renamed, so that no lookup finds it half removed), then removed; for
     * directory entries.
     */
    static void evict(Path entry) {
        Path gone = entry.resolveSibling("incoming-evicted-" + java.util.UUID.randomUUID());
        try {
            Files.move(entry, gone, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            return; // evicted by another task meanwhile
        }
        TaskWorkspace.remove(gone);
    }

    /** Removes the least recently used entries beyond {@code capacity} (entries being written, "incoming-*", aside). */
    static void keep(Path dir, int capacity, Consumer<Path> remove) throws IOException {
        List<Path> entries;
        try (Stream<Path> s = Files.list(dir)) {
            entries = s.filter(p -> !p.getFileName().toString().startsWith("incoming-"))
                    .toList();
        }
        if (entries.size() <= capacity) {
            return;
        }
        entries.stream()
                .sorted(Comparator.comparing(p -> p.toFile().lastModified()))
                .limit(entries.size() - capacity)
                .forEach(remove);
    }
}
