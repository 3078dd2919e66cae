package org.minifaas.worker;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.minifaas.worker.sandbox.Cancellation;
import org.minifaas.worker.sandbox.Mount;
import org.minifaas.worker.sandbox.Network;
import org.minifaas.worker.sandbox.Outcome;
import org.minifaas.worker.sandbox.OutputListener;
import org.minifaas.worker.sandbox.RunAccount;
import org.minifaas.worker.sandbox.Sandbox;
import org.minifaas.worker.sandbox.SandboxCommand;

/**
 * One step of preparing a function (a compilation, a dependency install), each in a sandbox of its own as the build
 * account, with the build's limits (BUILD_MEMORY_MB) and time limit (BUILD_TIMEOUT_SECONDS): what every runtime's
 * preparation runs its untrusted part with. Only steps that download get the host's network, and only they see the
 * proxy settings.
 */
final class BuildStep {
    /** Passed on to module downloads (the go command alone, no code of the repository): a proxy, the checksum db. */
    static final List<String> GO_DOWNLOAD_ENV =
            List.of("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy", "GOSUMDB");
    /**
     * Passed on to package installs, whose scripts are the repository's code and can print what they see: which
     * registry, never a proxy (its URL may hold credentials).
     */
    static final List<String> PACKAGE_INSTALL_ENV = List.of(
            "NPM_CONFIG_REGISTRY", "npm_config_registry", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_TRUSTED_HOST");

    private final WorkerConfig config;
    private final Sandbox sandbox;
    private final Optional<RunAccount> account;
    private final Network network;
    private final List<String> passedEnv;

    /**
     * Steps as {@code account}; {@code network} is what its downloading steps get ({@link #network()}): the host's
     * for module downloads through GOPROXY, a clone's for package installs; {@code passedEnv} the worker's variables
     * they see.
     */
    BuildStep(
            WorkerConfig config,
            Sandbox sandbox,
            Optional<RunAccount> account,
            Network network,
            List<String> passedEnv) {
        this.config = config;
        this.sandbox = sandbox;
        this.account = account;
        this.network = network;
        this.passedEnv = passedEnv;
    }

    Optional<RunAccount> account() {
        return account;
    }

    /** The network of this account's downloading steps. */
    Network network() {
        return network;
    }

    /** Runs one step: {@code env} plus, with the network, the proxy settings of the worker's own environment. */
    Outcome run(
            List<String> argv,
            List<Mount> mounts,
            String workDir,
            Map<String, String> env,
            Network network,
            OutputListener output,
            Cancellation cancellation)
            throws IOException, InterruptedException {
        Map<String, String> all = new LinkedHashMap<>();
        if (network != Network.NONE) {
            for (String name : passedEnv) {
                String v = System.getenv(name);
                if (v != null) {
                    all.put(name, v);
                }
            }
        }
        all.putAll(env);
        return sandbox.run(new SandboxCommand(
                argv,
                account,
                mounts,
                workDir,
                all,
                network,
                config.buildLimits(),
                config.buildTimeout(),
                config.outputCapBytes(),
                output,
                cancellation));
    }

    /**
     * Runs a step that runs the repository's own code (a package install and its scripts), writing to the tree
     * under {@code written}: as {@link #run}, and stopped once that tree holds more than INSTALL_MAX_DISK_MB (its
     * outcome then says {@link Outcome#diskFull}; the task is not cancelled).
     */
    Outcome runWithin(
            Path written,
            List<String> argv,
            List<Mount> mounts,
            String workDir,
            Map<String, String> env,
            Network network,
            OutputListener output,
            Cancellation cancellation)
            throws IOException, InterruptedException {
        Cancellation step = cancellation.step();
        DiskBudget budget = new DiskBudget(written, config.installMaxDiskBytes(), config.installMinFreeBytes(), step);
        Outcome outcome;
        try {
            outcome = run(argv, mounts, workDir, env, network, output, step);
        } finally {
            budget.close(); // with a last measurement
        }
        if (budget.exceeded() && !cancellation.isCancelled()) {
            return outcome.stoppedForDisk();
        }
        return outcome;
    }

    /** Why a step that ended like this failed, or empty when it succeeded. */
    Optional<String> failure(String step, Outcome outcome) {
        if (outcome.diskFull()) {
            return Optional.of(step + " wrote more than INSTALL_MAX_DISK_MB=" + config.installMaxDiskBytes() / (1 << 20)
                    + " MiB to disk (or left the worker's disk under INSTALL_MIN_FREE_MB="
                    + config.installMinFreeBytes() / (1 << 20)
                    + " MiB free)");
        }
        if (outcome.timedOut()) {
            return Optional.of(
                    step + " timed out after " + config.buildTimeout().toSeconds() + " s");
        }
        if (outcome.outOfMemory()) {
            return Optional.of(step + " reached the memory limit: BUILD_MEMORY_MB=" + config.buildMemoryMb());
        }
        if (outcome.exitCode() != 0) {
            return Optional.of(step + " failed with exit code " + outcome.exitCode());
        }
        return Optional.empty();
    }

    /** A failed step's stderr, for a log line. */
    static String stderr(Outcome outcome) {
        return new String(outcome.stderr(), StandardCharsets.UTF_8).trim();
    }

    static byte[] concat(List<byte[]> parts) {
        int n = parts.stream().mapToInt(b -> b.length).sum();
        byte[] all = new byte[n];
        int at = 0;
        for (byte[] b : parts) {
            System.arraycopy(b, 0, all, at, b.length);
            at += b.length;
        }
        return all;
    }
}
