package org.minifaas.cli;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

/**
 * Unzips a task's result into one directory. A result holds plain files only (stdout.txt, stderr.txt, error.txt),
 * so any entry naming a directory, a path or a parent is refused before anything is written (no zip-slip).
 */
final class SafeUnzip {
    private SafeUnzip() {}

    static boolean isSafeName(String name) {
        return !name.isEmpty()
                && !name.contains("/")
                && !name.contains("\\")
                && !name.contains("..")
                && !name.contains("\0")
                && !name.equals(".");
    }

    /** The files written, in zip order. Throws ApiException naming the first unsafe entry, having written none. */
    static List<Path> extract(byte[] zip, Path dir) throws IOException {
        List<String> names = new ArrayList<>();
        try (ZipInputStream in = new ZipInputStream(new ByteArrayInputStream(zip))) {
            for (ZipEntry e; (e = in.getNextEntry()) != null; ) {
                if (!isSafeName(e.getName())) {
                    throw new ApiException("refusing unsafe entry in the result zip: " + e.getName());
                }
                names.add(e.getName());
            }
        }
        Files.createDirectories(dir);
        Path root = dir.toRealPath();
        List<Path> written = new ArrayList<>();
        try (ZipInputStream in = new ZipInputStream(new ByteArrayInputStream(zip))) {
            for (ZipEntry e; (e = in.getNextEntry()) != null; ) {
                Path target = root.resolve(e.getName()).normalize();
                if (!target.getParent().equals(root)) { // belt and braces after isSafeName
                    throw new ApiException("refusing unsafe entry in the result zip: " + e.getName());
                }
                Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
                written.add(target);
            }
        }
        return written;
    }
}
