package org.minifaas.worker.sandbox;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One command to run in a sandbox of its own.
 *
 * @param argv         the program and its arguments, each reaching it as is (no shell)
 * @param account      the host account it runs as (empty: the worker's own user)
 * @param mounts       the task's paths it sees, besides the read-only system
 * @param workDir      its working directory, a path inside the sandbox
 * @param env          its whole environment
 * @param network      the network it gets
 * @param limits       what it may use
 * @param timeout      wall-clock limit
 * @param outputCap    bytes kept of each of stdout and stderr
 * @param output       sees the output as it is printed (besides the capture)
 * @param cancellation kills the command when its task is cancelled
 */
public record SandboxCommand(
        List<String> argv,
        Optional<RunAccount> account,
        List<Mount> mounts,
        String workDir,
        Map<String, String> env,
        Network network,
        Limits limits,
        Duration timeout,
        long outputCap,
        OutputListener output,
        Cancellation cancellation) {

    public SandboxCommand {
        output = output == null ? OutputListener.NONE : output;
        cancellation = cancellation == null ? new Cancellation() : cancellation;
    }

    /** A command nobody watches or cancels. */
    public SandboxCommand(
            List<String> argv,
            Optional<RunAccount> account,
            List<Mount> mounts,
            String workDir,
            Map<String, String> env,
            Network network,
            Limits limits,
            Duration timeout,
            long outputCap) {
        this(argv, account, mounts, workDir, env, network, limits, timeout, outputCap, null, null);
    }
}
