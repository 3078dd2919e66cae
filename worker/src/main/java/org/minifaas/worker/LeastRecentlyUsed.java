package org.minifaas.worker;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;

/** The eviction of the worker's caches: a directory's entries by last use (modification time), oldest out first. */
final class LeastRecentlyUsed {
    private LeastRecentlyUsed() {}

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
