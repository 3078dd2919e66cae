package org.minifaas.worker;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.minifaas.common.model.Task;
import org.minifaas.worker.sandbox.Cancellation;
import org.minifaas.worker.sandbox.Mount;
import org.minifaas.worker.sandbox.Outcome;
import org.minifaas.worker.sandbox.OutputListener;
import org.minifaas.worker.sandbox.RunAccount;
import org.minifaas.worker.sandbox.Sandbox;
import org.minifaas.worker.sandbox.SandboxCommand;

/**
 * Runs a function with the task's parameters in a sandbox of its own, as the run account: its repository read-only
 * as the working directory, what its runtime prepared read-only ({@link FunctionRuntime.Launch}), a clean
 * environment, /tmp (also HOME) private to it, within the task's time limit. Turns how it ended into the task's
 * status and result files.
 */
final class FunctionRunner {
    private final WorkerConfig config;
    private final Sandbox sandbox;
    private final Optional<RunAccount> account;

    FunctionRunner(WorkerConfig config, Sandbox sandbox, Optional<RunAccount> account) {
        this.config = config;
        this.sandbox = sandbox;
        this.account = account;
    }

    /** The task's run limit: its own when lower than MAX_SECONDS_EXECUTION_PER_REQUEST. */
    private Duration timeout(Task task) {
        Duration own = Duration.ofSeconds(task.timeoutSeconds());
        return task.timeoutSeconds() > 0 && own.compareTo(config.runTimeout()) < 0 ? own : config.runTimeout();
    }

    Execution run(Task task, Path src, FunctionRuntime.Launch launch, OutputListener output, Cancellation cancellation)
            throws IOException, InterruptedException {
        List<String> argv = new ArrayList<>(launch.command());
        argv.addAll(task.parameters());
        Map<String, String> env = new LinkedHashMap<>();
        env.put("PATH", "/usr/local/bin:/usr/bin:/bin");
        env.put("HOME", "/tmp");
        env.put("TMPDIR", "/tmp");
        env.put("LANG", "C.UTF-8");
        env.putAll(launch.env());
        List<Mount> mounts = new ArrayList<>();
        mounts.add(Mount.readOnly(src, GoBuilder.SRC));
        mounts.addAll(launch.mounts());
        Duration timeout = timeout(task);
        Outcome run = sandbox.run(new SandboxCommand(
                argv,
                account,
                mounts,
                GoBuilder.SRC,
                env,
                config.network(),
                config.function(),
                timeout,
                config.outputCapBytes(),
                output,
                cancellation));
        if (run.cancelled()) {
            return Execution.cancelled(run.stdout(), run.stderr());
        }
        if (run.timedOut()) {
            return Execution.failed(run.stdout(), run.stderr(), "timed out after " + timeout.toSeconds() + " s");
        }
        if (run.outOfMemory()) {
            // before the exit code: a child killed for memory while the main process lives on still counts
            return Execution.failed(
                    run.stdout(),
                    run.stderr(),
                    "memory limit reached: FUNCTION_MEMORY_MB="
                            + config.function().memoryMb()
                            + " (a process of the function was killed or refused memory)");
        }
        if (run.exitCode() != 0) {
            return Execution.failed(run.stdout(), run.stderr(), "exit code " + run.exitCode())
                    .withExitCode(run.exitCode());
        }
        return Execution.finished(run.stdout(), run.stderr());
    }
}
