package org.minifaas.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BinaryCacheTest {
    static final String KEY_A = "a".repeat(40);
    static final String KEY_B = "b".repeat(40);

    @Test
    void binariesAreKeptByKeyButNeverOverTheSizeCap(@TempDir Path dir) throws Exception {
        BinaryCache cache = new BinaryCache(dir.resolve("binaries"), 10);
        Path small = Files.writeString(dir.resolve("small"), "program");
        assertTrue(cache.put(KEY_A, small).isPresent());
        assertEquals("program", Files.readString(cache.get(KEY_A).orElseThrow()));

        Path huge = dir.resolve("huge");
        try (RandomAccessFile f = new RandomAccessFile(huge.toFile(), "rw")) {
            f.setLength(BinaryCache.MAX_ENTRY_BYTES + 1); // sparse: no disk used by the test itself
        }
        assertEquals(Optional.empty(), cache.put(KEY_B, huge));
        assertEquals(Optional.empty(), cache.get(KEY_B));
    }

    @Test
    void linksAreNeverFollowedIntoTheCache(@TempDir Path dir) throws Exception {
        BinaryCache cache = new BinaryCache(dir.resolve("binaries"), 10);
        Path link = Files.createSymbolicLink(dir.resolve("link"), Path.of("/etc/passwd"));
        org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class, () -> cache.put(KEY_A, link));
        assertEquals(Optional.empty(), cache.get(KEY_A));
    }
}
