package org.minifaas.worker;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.minifaas.worker.sandbox.RunAccount;

/**
 * The shared Go build cache and the per-build layers over it. The shared cache belongs to the worker and is
 * read-only to everyone else; only the worker's own warm-up build adds to it. Each user build gets a layer: a
 * directory of its account whose entries are hard links to the shared (read-only, worker-owned) files, so
 * the build reads everything the cache has, writes its new entries into its own directories, and can replace
 * or delete links there but never change a shared file. A layer is removed with its task.
 */
final class GoBuildCache {
    private final Path shared;

    GoBuildCache(Path shared) throws IOException {
        this.shared = shared;
        Files.createDirectories(shared);
        Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    Path shared() {
        return shared;
    }

    /** A writable layer for one build at {@code dir} (which must not exist yet), owned by {@code account}. */
    Path layer(Path dir, Optional<RunAccount> account) throws IOException {
        TaskWorkspace.directoryOf(dir, account);
        for (Path sub : list(shared)) {
            String name = sub.getFileName().toString();
            if (Files.isDirectory(sub, LinkOption.NOFOLLOW_LINKS)) {
                Path copy = TaskWorkspace.directoryOf(dir.resolve(name), account);
                for (Path entry : list(sub)) {
                    if (Files.isRegularFile(entry, LinkOption.NOFOLLOW_LINKS)) {
                        Files.createLink(copy.resolve(entry.getFileName()), entry);
                    }
                }
            }
        }
        return dir;
    }

    /**
     * Adds to the shared cache what a build of the worker's own program put in its layer (never call this for
     * a build of user code). Copies, so the shared files are the worker's, read-only to others.
     */
    int merge(Path layer) throws IOException {
        int added = 0;
        for (Path sub : list(layer)) {
            if (!Files.isDirectory(sub, LinkOption.NOFOLLOW_LINKS)) {
                continue;
            }
            Path target = shared.resolve(sub.getFileName().toString());
            Files.createDirectories(target);
            Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rwxr-xr-x"));
            for (Path entry : list(sub)) {
                Path to = target.resolve(entry.getFileName().toString());
                if (Files.isRegularFile(entry, LinkOption.NOFOLLOW_LINKS)
                        && !Files.exists(to, LinkOption.NOFOLLOW_LINKS)) {
                    Path tmp = Files.createTempFile(target, ".incoming-", "");
                    BinaryCache.copyOut(entry, tmp);
                    Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-r--r--"));
                    Files.move(tmp, to, StandardCopyOption.ATOMIC_MOVE);
                    added++;
                }
            }
        }
        return added;
    }

    private static List<Path> list(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.toList();
        }
    }
}
