package org.minifaas.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafeUnzipTest {
    static byte[] zip(String... nameThenContent) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream z = new ZipOutputStream(bytes)) {
            for (int i = 0; i < nameThenContent.length; i += 2) {
                z.putNextEntry(new ZipEntry(nameThenContent[i]));
                z.write(nameThenContent[i + 1].getBytes(StandardCharsets.UTF_8));
                z.closeEntry();
            }
        }
        return bytes.toByteArray();
    }

    @Test
    void aResultIsUnzippedIntoTheDirectory(@TempDir Path tmp) throws IOException {
        Path dir = tmp.resolve("new/dir");
        List<Path> files = SafeUnzip.extract(zip("stdout.txt", "hello\n", "stderr.txt", ""), dir);
        assertEquals(2, files.size());
        assertEquals("hello\n", Files.readString(dir.resolve("stdout.txt")));
        assertEquals("", Files.readString(dir.resolve("stderr.txt")));
    }

    @Test
    void pathsParentsAndAbsoluteNamesAreRefusedBeforeAnythingIsWritten(@TempDir Path tmp) throws IOException {
        for (String evil :
                List.of("../evil.txt", "a/../../evil.txt", "/etc/evil", "sub/ok.txt", "..\\evil", "..", "x/")) {
            Path dir = tmp.resolve("out-" + Math.abs(evil.hashCode()));
            ApiException e = assertThrows(
                    ApiException.class, () -> SafeUnzip.extract(zip("stdout.txt", "fine", evil, "bad"), dir), evil);
            assertTrue(e.getMessage().contains("unsafe entry"), e.getMessage());
            assertFalse(Files.exists(dir.resolve("stdout.txt")), "nothing written for " + evil);
        }
        assertFalse(Files.exists(tmp.resolve("evil.txt")));
    }

    @Test
    void anExistingSymlinkIsReplacedNotFollowed(@TempDir Path tmp) throws IOException {
        Path outside = tmp.resolve("outside.txt");
        Files.writeString(outside, "keep");
        Path dir = Files.createDirectories(tmp.resolve("out"));
        Files.createSymbolicLink(dir.resolve("stdout.txt"), outside);
        SafeUnzip.extract(zip("stdout.txt", "new"), dir);
        assertEquals("keep", Files.readString(outside));
        assertEquals("new", Files.readString(dir.resolve("stdout.txt")));
        assertFalse(Files.isSymbolicLink(dir.resolve("stdout.txt")));
    }
}
