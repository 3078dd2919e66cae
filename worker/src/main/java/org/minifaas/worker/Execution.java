package org.minifaas.worker;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.minifaas.common.model.TaskStatus;

/**
 * The end of a task: its final status, the files to store, a one-line reason, and what the execution record
 * keeps of the run.
 *
 * @param commit       the commit id run (null: not cloned)
 * @param cloneMs      time of the clone (null: not reached)
 * @param buildMs      time to build, or to find the binary in the cache (null: not reached)
 * @param runMs        the function's own run (null: it did not run)
 * @param exitCode     the function's exit status (null: it did not run, or was killed: time, memory, cancel)
 * @param binaryCached whether the binary came from the cache (null: not reached)
 * @param cloneSkipped whether a known commit ran from the caches without a clone (null: not reached)
 * @param runtime      the runtime that ran it: go, node, python (null: not known yet)
 * @param toolchain    the toolchain or interpreter that built or ran it: go1.23.5, node20.19.2 (null: none chosen)
 */
record Execution(
        TaskStatus status,
        Map<String, byte[]> files,
        String reason,
        String commit,
        Long cloneMs,
        Long buildMs,
        Long runMs,
        Integer exitCode,
        Boolean binaryCached,
        Boolean cloneSkipped,
        String runtime,
        String toolchain) {
    static final String CANCELLED = "cancelled by its owner while running";

    /** FINISHED_WITH_ERRORS with what was printed and the reason in error.txt. */
    static Execution failed(byte[] stdout, byte[] stderr, String reason) {
        return ended(TaskStatus.FINISHED_WITH_ERRORS, stdout, stderr, reason);
    }

    static Execution failed(String reason) {
        return failed(new byte[0], new byte[0], reason);
    }

    static Execution finished(byte[] stdout, byte[] stderr) {
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("stdout.txt", stdout);
        files.put("stderr.txt", stderr);
        return new Execution(
                TaskStatus.FINISHED, files, "exit code 0", null, null, null, null, 0, null, null, null, null);
    }

    /** CANCELLED, with what was printed until then. */
    static Execution cancelled(byte[] stdout, byte[] stderr) {
        return ended(TaskStatus.CANCELLED, stdout, stderr, CANCELLED);
    }

    static Execution cancelled() {
        return cancelled(new byte[0], new byte[0]);
    }

    private static Execution ended(TaskStatus status, byte[] stdout, byte[] stderr, String reason) {
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("stdout.txt", stdout);
        files.put("stderr.txt", stderr);
        files.put("error.txt", line(reason));
        return new Execution(status, files, reason, null, null, null, null, null, null, null, null, null);
    }

    /** The function's exit status, for a run that ended by itself. */
    Execution withExitCode(int code) {
        Fields f = new Fields(this);
        f.exitCode = code;
        return f.build();
    }

    /** With the facts of the steps reached (null for those that were not). */
    Execution with(String commitId, Long clone, Long build, Long run, Boolean cached) {
        Fields f = new Fields(this);
        f.commit = commitId;
        f.cloneMs = clone;
        f.buildMs = build;
        f.runMs = run;
        f.binaryCached = cached;
        f.cloneSkipped = build == null ? null : false;
        return f.build();
    }

    /** Ran a known commit from the caches: no clone. */
    Execution withoutClone() {
        Fields f = new Fields(this);
        f.cloneSkipped = true;
        return f.build();
    }

    /**
     * With the runtime that ran it and the toolchain or interpreter it was built or run with ({@code null}: none
     * chosen); error.txt then says which on its second line.
     */
    Execution withRuntime(String runtimeName, String toolchainLabel) {
        Fields f = new Fields(this);
        if (toolchainLabel != null && files.containsKey("error.txt")) {
            f.files = new LinkedHashMap<>(files);
            f.files.put("error.txt", line(reason + "\nruntime: " + toolchainLabel));
        }
        f.runtime = runtimeName;
        f.toolchain = toolchainLabel;
        return f.build();
    }

    /** A copy of an execution's components to change some of: each wither names only what it changes. */
    private static final class Fields {
        final TaskStatus status;
        Map<String, byte[]> files;
        final String reason;
        String commit;
        Long cloneMs;
        Long buildMs;
        Long runMs;
        Integer exitCode;
        Boolean binaryCached;
        Boolean cloneSkipped;
        String runtime;
        String toolchain;

        Fields(Execution e) {
            status = e.status;
            files = e.files;
            reason = e.reason;
            commit = e.commit;
            cloneMs = e.cloneMs;
            buildMs = e.buildMs;
            runMs = e.runMs;
            exitCode = e.exitCode;
            binaryCached = e.binaryCached;
            cloneSkipped = e.cloneSkipped;
            runtime = e.runtime;
            toolchain = e.toolchain;
        }

        Execution build() {
            return new Execution(
                    status,
                    files,
                    reason,
                    commit,
                    cloneMs,
                    buildMs,
                    runMs,
                    exitCode,
                    binaryCached,
                    cloneSkipped,
                    runtime,
                    toolchain);
        }
    }

    /** The record's one-line error: the reason of a failure, none when FINISHED. */
    String error() {
        return status == TaskStatus.FINISHED ? null : reason;
    }

    private static byte[] line(String s) {
        return (s + "\n").getBytes(StandardCharsets.UTF_8);
    }
}
