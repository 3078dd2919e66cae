package org.minifaas.worker;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.minifaas.common.config.Env;
import org.minifaas.common.config.NatsSettings;

/**
 * The worker's configuration, read once at start.
 *
 * @param concurrency      WORKER_CONCURRENCY: tasks run at once by this process
 * @param runAsUser        RUN_AS_USER: the low-privilege user(s) functions run as, comma-separated: slot i runs as
 *                         the i-th (round robin when fewer than the slots); empty = the worker's own user
 * @param buildAsUser      BUILD_AS_USER: the user builds run as, sole owner of the Go caches; empty = RUN_AS_USER
 * @param runTimeout       MAX_SECONDS_EXECUTION_PER_REQUEST: limit on the function's run
 * @param cloneTimeout     CLONE_TIMEOUT_SECONDS: limit on the clone
 * @param buildTimeout     BUILD_TIMEOUT_SECONDS: limit on {@code go mod download} and on compiling, each
 * @param workDir          WORKER_WORK_DIR: where task directories and the Go caches live
 * @param goBinary         GO_BINARY: the go command
 * @param shutdownGrace    WORKER_SHUTDOWN_SECONDS: on SIGTERM, how long running tasks may take to finish
 * @param binaryCacheEntries BINARY_CACHE_ENTRIES: compiled functions kept by source tree (0 = no cache)
 * @param maxProcesses     FUNCTION_MAX_PROCESSES: processes and threads of the run account at once
 * @param maxFileBytes     FUNCTION_MAX_FILE_BYTES: largest file a function (or its build) may write
 */
public record WorkerConfig(NatsSettings nats, int concurrency, String runAsUser, String buildAsUser,
                           Duration runTimeout,
                           Duration cloneTimeout, Duration buildTimeout, Path workDir, String goBinary,
                           Duration shutdownGrace, int binaryCacheEntries, int maxProcesses, long maxFileBytes) {

    public static WorkerConfig fromEnv(Env env) {
        NatsSettings nats = NatsSettings.fromEnv(env);
        WorkerConfig config = new WorkerConfig(
                nats,
                env.intValue("WORKER_CONCURRENCY", 1, 1, 64),
                env.string("RUN_AS_USER", "client"),
                env.string("BUILD_AS_USER", "minifaas-build"),
                env.seconds("MAX_SECONDS_EXECUTION_PER_REQUEST", 20, 1, 3600),
                env.seconds("CLONE_TIMEOUT_SECONDS", 60, 1, 3600),
                env.seconds("BUILD_TIMEOUT_SECONDS", 120, 1, 3600),
                Path.of(env.string("WORKER_WORK_DIR",
                        Path.of(System.getProperty("java.io.tmpdir"), "minifaas-worker").toString())),
                env.string("GO_BINARY", "go"),
                env.seconds("WORKER_SHUTDOWN_SECONDS", 25, 0, 3600),
                env.intValue("BINARY_CACHE_ENTRIES", 256, 0, 100_000),
                env.intValue("FUNCTION_MAX_PROCESSES", 1024, 16, 1_000_000),
                env.longValue("FUNCTION_MAX_FILE_BYTES", 1L << 30, 1024 * 1024, 1L << 40));
        env.validate();
        return config;
    }

    /** The run accounts by name, one per slot when enough are given. */
    public List<String> runAsUsers() {
        return runAsUser.isBlank() ? List.of("") : List.of(runAsUser.trim().split("\\s*,\\s*"));
    }

    /** Cap of each captured stream: four fit in one result store with room to spare. */
    public long outputCapBytes() {
        return nats.maxResultBytes() / 4;
    }
}
