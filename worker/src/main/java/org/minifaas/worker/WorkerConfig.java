package org.minifaas.worker;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import org.minifaas.common.config.Env;
import org.minifaas.common.config.NatsSettings;
import org.minifaas.common.net.AddressPolicy;
import org.minifaas.common.ops.OpsSettings;
import org.minifaas.worker.sandbox.Limits;
import org.minifaas.worker.sandbox.Network;

/**
 * The worker's configuration, read once at start.
 *
 * @param concurrency        WORKER_CONCURRENCY: tasks run at once by this process
 * @param runAsUser          RUN_AS_USER: the host account functions run as (empty: the worker's own user)
 * @param buildAsUser        BUILD_AS_USER: the host account builds run as, owner of the shared Go caches
 *                           (empty: RUN_AS_USER)
 * @param runTimeout         MAX_SECONDS_EXECUTION_PER_REQUEST: limit on the function's run
 * @param cloneTimeout       CLONE_TIMEOUT_SECONDS: limit on the clone
 * @param buildTimeout       BUILD_TIMEOUT_SECONDS: limit on {@code go mod download} and on compiling, each
 * @param workDir            WORKER_WORK_DIR: task directories and compiled functions
 * @param cacheDir           WORKER_CACHE_DIR: the shared Go build and module caches
 * @param goBinary           GO_BINARY: a go command on PATH, counted among the toolchains when GO_TOOLCHAINS is unset
 * @param goToolchains       GO_TOOLCHAINS: the Go installations (GOROOTs or go commands, comma-separated) go.mod
 *                           files choose from; empty: every /usr/lib/go-*, /usr/local/go and GO_BINARY
 * @param pythonBinary       PYTHON_BINARY: the python3 Python functions run with (under /usr, which sandboxes see)
 * @param nodeBinary         NODE_BINARY: the node Node.js functions run with (under /usr)
 * @param npmBinary          NPM_BINARY: the npm that installs Node.js functions' dependencies (under /usr)
 * @param shutdownGrace      WORKER_SHUTDOWN_SECONDS: on SIGTERM, how long running tasks may take to finish
 * @param binaryCacheEntries BINARY_CACHE_ENTRIES: compiled functions kept by source tree (0 = no cache)
 * @param sandbox            SANDBOX: {@code bwrap} (default) or {@code off}
 * @param function           FUNCTION_MEMORY_MB, FUNCTION_TMP_MB, FUNCTION_MAX_PROCESSES, FUNCTION_CPUS,
 *                           FUNCTION_MAX_FILE_BYTES: what each function run may use
 * @param buildMemoryMb      BUILD_MEMORY_MB: memory of each build step
 * @param buildCpus          BUILD_CPUS: CPUs each build step may use (default: all of the host's)
 * @param buildTmpMb         BUILD_TMP_MB: size of a build step's private /tmp (npm's cache, Go's temporary files)
 * @param installMaxDiskBytes INSTALL_MAX_DISK_MB: what one package install (npm, pip, with their scripts) may write to
 *                           the worker's disk
 * @param installMinFreeBytes INSTALL_MIN_FREE_MB: an install is stopped when the worker's disk has less than this free
 * @param cgo                FUNCTION_CGO: 1 lets builds use cgo (unsafe: C toolchains run flags from the source)
 * @param allowPrivateRepositories REPO_ALLOW_PRIVATE_ADDRESSES: clone from loopback and private addresses too
 * @param repoMaxBytes       REPO_MAX_MB: the most a repository's files may add up to (checked before checkout)
 * @param repoMaxFiles       REPO_MAX_FILES: the most files a repository may have
 * @param network            FUNCTION_NETWORK: {@code egress} (public addresses only, where the host allows it) or
 *                           {@code none}
 * @param egressReadyAhead   EGRESS_READY_AHEAD: egress networks kept made ahead for the next functions (default:
 *                           WORKER_CONCURRENCY; 0: each function's run makes its own)
 * @param logMaxBytes        LOG_MAX_BYTES: output of one task published to its live log (0: none; the result files
 *                           keep it all the same)
 * @param ops                METRICS_HOST, METRICS_PORT: the ops server (metrics, health)
 */
public record WorkerConfig(
        NatsSettings nats,
        int concurrency,
        String runAsUser,
        String buildAsUser,
        Duration runTimeout,
        Duration cloneTimeout,
        Duration buildTimeout,
        Path workDir,
        Path cacheDir,
        String goBinary,
        String goToolchains,
        String pythonBinary,
        String nodeBinary,
        String npmBinary,
        Duration shutdownGrace,
        int binaryCacheEntries,
        String sandbox,
        Limits function,
        int buildMemoryMb,
        int buildCpus,
        int buildTmpMb,
        long installMaxDiskBytes,
        long installMinFreeBytes,
        boolean cgo,
        boolean allowPrivateRepositories,
        long repoMaxBytes,
        int repoMaxFiles,
        Network network,
        int egressReadyAhead,
        long logMaxBytes,
        OpsSettings ops) {
    /** LOG_MAX_BYTES unless set: 1 MiB of live output per task. */
    public static final long DEFAULT_LOG_MAX_BYTES = 1024 * 1024;

    public static WorkerConfig fromEnv(Env env) {
        return fromEnv(env, NatsSettings.fromEnv(env));
    }

    public static WorkerConfig fromEnv(Env env, NatsSettings nats) {
        int concurrency = env.intValue("WORKER_CONCURRENCY", 1, 1, 64);
        Path workDir = Path.of(env.string(
                "WORKER_WORK_DIR",
                Path.of(System.getProperty("java.io.tmpdir"), "minifaas-worker").toString()));
        String runAs = env.string("RUN_AS_USER", "client").trim();
        if (runAs.contains(",")) {
            env.problem("RUN_AS_USER=" + runAs + " must name one account: every function runs in a sandbox of its "
                    + "own, so slots no longer need accounts of their own");
        }
        Limits limits = new Limits(
                env.intValue("FUNCTION_MEMORY_MB", 512, 16, 1 << 20),
                env.intValue("FUNCTION_TMP_MB", 256, 1, 1 << 20),
                env.intValue("FUNCTION_MAX_PROCESSES", 256, 8, 1_000_000),
                env.intValue("FUNCTION_CPUS", 1, 1, 1024),
                env.longValue("FUNCTION_MAX_FILE_BYTES", 1L << 30, 1024 * 1024, 1L << 40));
        WorkerConfig config = new WorkerConfig(
                nats,
                concurrency,
                runAs,
                env.string("BUILD_AS_USER", "minifaas-build").trim(),
                env.seconds("MAX_SECONDS_EXECUTION_PER_REQUEST", 20, 1, 3600),
                env.seconds("CLONE_TIMEOUT_SECONDS", 60, 1, 3600),
                env.seconds("BUILD_TIMEOUT_SECONDS", 120, 1, 3600),
                workDir,
                Path.of(env.string("WORKER_CACHE_DIR", workDir.resolve("cache").toString())),
                env.string("GO_BINARY", "go"),
                env.string("GO_TOOLCHAINS", ""),
                env.string("PYTHON_BINARY", "/usr/bin/python3"),
                env.string("NODE_BINARY", "/usr/bin/node"),
                env.string("NPM_BINARY", "/usr/bin/npm"),
                env.seconds("WORKER_SHUTDOWN_SECONDS", 25, 0, 3600),
                env.intValue("BINARY_CACHE_ENTRIES", 256, 0, 100_000),
                env.choices("SANDBOX", "bwrap", Set.of("bwrap", "off")).stream()
                        .findFirst()
                        .orElse("bwrap"),
                limits,
                env.intValue("BUILD_MEMORY_MB", 2048, 256, 1 << 20),
                env.intValue("BUILD_CPUS", Runtime.getRuntime().availableProcessors(), 1, 1024),
                env.intValue("BUILD_TMP_MB", 1024, 16, 1 << 20),
                env.longValue("INSTALL_MAX_DISK_MB", 1024, 1, 1 << 30) * 1024 * 1024,
                env.longValue("INSTALL_MIN_FREE_MB", 256, 0, 1 << 30) * 1024 * 1024,
                env.intValue("FUNCTION_CGO", 0, 0, 1) == 1,
                env.bool(AddressPolicy.ALLOW_PRIVATE, false),
                env.longValue("REPO_MAX_MB", 100, 1, 1 << 20) * 1024 * 1024,
                env.intValue("REPO_MAX_FILES", 20_000, 1, 10_000_000),
                env.choices("FUNCTION_NETWORK", "egress", Set.of("egress", "none"))
                                .contains("none")
                        ? Network.NONE
                        : Network.EGRESS,
                env.intValue("EGRESS_READY_AHEAD", concurrency, 0, 64),
                env.longValue("LOG_MAX_BYTES", DEFAULT_LOG_MAX_BYTES, 0, 1L << 30),
                OpsSettings.fromEnv(env));
        env.validate();
        return config;
    }

    /** Cap of each captured stream: four fit in one result store with room to spare. */
    public long outputCapBytes() {
        return nats.maxResultBytes() / 4;
    }

    /** What each build step may use: the function's limits with the build's memory, CPUs, /tmp and more threads. */
    public Limits buildLimits() {
        return function.withMemoryMb(buildMemoryMb)
                .withCpus(buildCpus)
                .withTmpMb(buildTmpMb)
                .withMaxProcesses(Math.max(1024, function.maxProcesses()));
    }
}
