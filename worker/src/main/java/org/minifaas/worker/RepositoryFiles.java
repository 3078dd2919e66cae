package org.minifaas.worker;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * How the worker (root) reads a checked-out repository before anything of it runs: regular files only, never through a
 * link, and no more than a cap, so that a hostile repository can make it read nothing of the host.
 */
final class RepositoryFiles {
    private RepositoryFiles() {}

    /** A regular file's first {@code maxBytes} bytes, never through a link; empty when it is absent or not regular. */
    static byte[] read(Path file, int maxBytes) throws IOException {
        if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
            return new byte[0];
        }
        try (InputStream in = Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS)) {
            return in.readNBytes(maxBytes);
        }
    }

    /**
     * A regular file's whole content when it has at most {@code maxBytes} (empty when larger: a key must hash what the
     * tool reads, all of it), no bytes when it is absent or not regular; never through a link.
     */
    static Optional<byte[]> readWhole(Path file, int maxBytes) throws IOException {
        byte[] bytes = read(file, maxBytes + 1);
        return bytes.length > maxBytes ? Optional.empty() : Optional.of(bytes);
    }

    /** Why the repository is refused when one of the files a runtime reads ({@code names}) is a link, or empty. */
    static Optional<String> linkRefused(Path src, List<String> names) {
        for (String name : names) {
            if (Files.isSymbolicLink(src.resolve(name))) {
                return Optional.of(name + " is a symbolic link: refused");
            }
        }
        return Optional.empty();
    }
}
