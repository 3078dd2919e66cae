package org.minifaas.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.minifaas.common.Json;

/** What the runtimes read of a repository before anything runs. */
class RuntimeFilesTest {
    @TempDir
    Path src;

    private NodeRuntime.Entry entry(String packageJson) throws Exception {
        JsonNode pkg = Json.MAPPER.readTree(packageJson);
        return NodeRuntime.entry(src, pkg);
    }

    @Test
    void nodeRunsItsMainFollowingNodesOwnLookup() throws Exception {
        Files.createDirectories(src.resolve("lib/server"));
        Files.writeString(src.resolve("lib/app.js"), "");
        Files.writeString(src.resolve("lib/server/index.js"), "");
        Files.writeString(src.resolve("index.js"), "");
        assertEquals("./index.js", entry("{}").path());
        assertEquals("./lib/app.js", entry("{\"main\": \"lib/app.js\"}").path());
        assertEquals("./lib/app", entry("{\"main\": \"./lib/app\"}").path());
        assertEquals("./lib/server", entry("{\"main\": \"lib/server\"}").path());
    }

    @Test
    void nodeRefusesAMainOutsideTheRepositoryOrThroughALink() throws Exception {
        Files.createSymbolicLink(src.resolve("linked"), Path.of("/etc"));
        Files.createSymbolicLink(src.resolve("passwd.js"), Path.of("/etc/passwd"));
        assertTrue(entry("{\"main\": \"../x.js\"}").problem().orElseThrow().contains("outside the repository"));
        assertTrue(entry("{\"main\": \"/etc/passwd\"}").problem().orElseThrow().contains("outside the repository"));
        assertTrue(
                entry("{\"main\": \"linked/passwd\"}").problem().orElseThrow().contains("not a file"));
        assertTrue(entry("{\"main\": \"passwd.js\"}").problem().orElseThrow().contains("not a file"));
        assertTrue(entry("{\"main\": 42}").problem().orElseThrow().contains("non-empty string"));
        assertEquals(
                Optional.of("no index.js in the repository root, and package.json names no main"),
                entry("{}").problem());
    }

    @Test
    void requirementsWithOnlyCommentsListNoPackages() {
        assertFalse(PythonRuntime.listsPackages(""));
        assertFalse(PythonRuntime.listsPackages("# nothing\n\n   # still nothing\n"));
        assertTrue(PythonRuntime.listsPackages("requests==2.31.0 # pinned\n"));
    }

    @Test
    void cacheKeysChangeWithEveryPart() {
        assertEquals(CacheKeys.of("a", "b"), CacheKeys.of("a", "b"));
        assertFalse(CacheKeys.of("ab", "").equals(CacheKeys.of("a", "b")), "parts are delimited");
        assertTrue(CacheKeys.of("x").matches("[0-9a-f]{64}"));
        assertFalse(CacheKeys.of(new byte[] {1}, "a").equals(CacheKeys.of(new byte[] {2}, "a")));
    }
}
