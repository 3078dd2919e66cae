package org.minifaas.worker.sandbox;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class RefusedMemoryTest {
    static boolean in(String stderr) {
        return RefusedMemory.in(1, stderr.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void goRuntimesOfEveryVersionHere() {
        // Go 1.19 to 1.23 under RLIMIT_DATA
        assertTrue(in("fatal error: out of memory allocating heap arena metadata\n\nruntime stack:\n"));
        assertTrue(in("fatal error: runtime: out of memory\n"));
        // Go 1.24 (the worker image's), seen in the container smoke test: its persistent allocator refused
        assertTrue(in("fatal error: runtime: cannot allocate memory\n\nruntime stack:\nruntime.throw(...)\n"));
        assertTrue(in("runtime: failed to create new OS thread (have 6 already; errno=12)\nfatal error: newosproc\n"));
    }

    @Test
    void otherRuntimesAndTheShell() {
        assertTrue(in("Traceback (most recent call last):\n  File \"<string>\", line 1, in <module>\nMemoryError\n"));
        assertTrue(in("FATAL ERROR: CALL_AND_RETRY_LAST Allocation failed - JavaScript heap out of memory\n"));
        assertTrue(in("RangeError: Array buffer allocation failed\n    at createUnsafeBuffer\n"));
        assertTrue(in("sh: 1: Cannot fork: Cannot allocate memory\n"));
    }

    @Test
    void aCommandThatSucceededDidNotRunOutOfMemoryWhateverItPrinted() {
        byte[] handled = "Traceback (most recent call last):\nMemoryError\nretrying with less\n"
                .getBytes(StandardCharsets.UTF_8);
        assertFalse(RefusedMemory.in(0, handled));
        assertTrue(RefusedMemory.in(1, handled));
        assertFalse(RefusedMemory.in(0, "remote: fatal: cannot allocate memory\n".getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void ordinaryErrorsAreNotMemory() {
        assertFalse(in(""));
        assertFalse(in("panic: runtime error: index out of range [3] with length 3\n"));
        assertFalse(in("fatal error: all goroutines are asleep - deadlock!\n"));
        // too many processes (FUNCTION_MAX_PROCESSES) is not memory
        assertFalse(in("runtime: failed to create new OS thread (have 6 already; errno=11)\nfatal error: newosproc\n"));
        assertFalse(in("the cache ran out of memory budget, evicting\n"));
        assertFalse(in("RangeError: Maximum call stack size exceeded\n"));
    }
}
