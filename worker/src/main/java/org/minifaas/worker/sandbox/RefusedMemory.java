package org.minifaas.worker.sandbox;

import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * Without a memory cgroup the limit is RLIMIT_DATA: the kernel refuses the allocation and the function's runtime
 * dies with its own message. This recognises those messages in the function's stderr, line by line.
 */
final class RefusedMemory {
    private RefusedMemory() {}

    /**
     * True when a command that failed ({@code exitCode} not 0) has a line in {@code stderr} that a runtime prints
     * when it is refused memory. A command that succeeded did not run out of memory, whatever it printed (a handled
     * MemoryError, a logged ENOMEM, a Git server's remote message).
     */
    static boolean in(int exitCode, byte[] stderr) {
        return exitCode != 0
                && new String(stderr, StandardCharsets.UTF_8).lines().anyMatch(RefusedMemory::isRefusal);
    }

    static boolean isRefusal(String line) {
        String l = line.strip().toLowerCase(Locale.ROOT);
        boolean fatal = l.startsWith("fatal error:") || l.startsWith("fatal error ");
        return (fatal && l.contains("out of memory")) // Go ("fatal error: out of memory ..."), V8
                || l.contains("cannot allocate memory") // ENOMEM: Go's sysAlloc failures, C programs, the shell
                || (l.contains("failed to create new os thread") && l.contains("errno=12")) // Go, ENOMEM
                || l.equals("memoryerror")
                || l.startsWith("memoryerror:") // Python
                || l.startsWith("rangeerror: array buffer allocation failed"); // Node.js buffers
    }
}
