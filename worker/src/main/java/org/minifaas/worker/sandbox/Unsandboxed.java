package org.minifaas.worker.sandbox;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code SANDBOX=off}: commands run directly on the host, as the run account when the worker is root, with
 * only RLIMIT_FSIZE and RLIMIT_NPROC. They share the host's /tmp, processes and network: for a machine
 * where nothing but trusted code runs. Paths inside the sandbox are translated to the mounts' host paths.
 */
public final class Unsandboxed implements Sandbox {
    private final boolean root;

    public Unsandboxed(boolean root) {
        this.root = root;
    }

    @Override
    public boolean isolated() {
        return false;
    }

    @Override
    public boolean egress() {
        return false;
    }

    @Override
    public List<String> describe() {
        return List.of(
                "isolation: NONE (SANDBOX=off): functions share this host's files, processes and network",
                "files (FUNCTION_MAX_FILE_BYTES): RLIMIT_FSIZE; processes: RLIMIT_NPROC of the run account",
                "memory, cpu, /tmp: not limited");
    }

    @Override
    public List<String> warnings() {
        return List.of("SANDBOX=off: FUNCTIONS RUN WITHOUT A SANDBOX. They can reach this host's network (NATS, the "
                + "frontend), see other tasks' processes and files in /tmp, and use all its memory.");
    }

    @Override
    public Outcome run(SandboxCommand command) throws IOException, InterruptedException {
        List<String> argv =
                new ArrayList<>(List.of("prlimit", "--fsize=" + command.limits().maxFileBytes()));
        Optional<RunAccount> account = root ? command.account() : Optional.empty();
        if (account.isPresent()) {
            argv.add("--nproc=" + command.limits().maxProcesses());
        }
        argv.add("--");
        account.ifPresent(a ->
                argv.addAll(List.of("setpriv", "--reuid=" + a.uid(), "--regid=" + a.gid(), "--clear-groups", "--")));
        command.argv().forEach(arg -> argv.add(translate(arg, command)));
        Map<String, String> env = new LinkedHashMap<>();
        command.env().forEach((k, v) -> env.put(k, translate(v, command)));
        Path dir = Path.of(translate(command.workDir(), command));
        Outcome raw = ProcessRunner.run(
                argv, dir, env, command.timeout(), command.outputCap(), true, command.output(), command.cancellation());
        return new Outcome(
                raw.exitCode(),
                raw.timedOut(),
                RefusedMemory.in(raw.exitCode(), raw.stderr()),
                raw.stdout(),
                raw.stderr(),
                raw.elapsed(),
                raw.cancelled(),
                false);
    }

    /** A path inside the sandbox as the host path of the mount that holds it; other values unchanged. */
    static String translate(String value, SandboxCommand command) {
        for (Mount m : command.mounts()) {
            if (value.equals(m.target())) {
                return m.source().toString();
            }
            if (value.startsWith(m.target() + "/")) {
                return m.source() + value.substring(m.target().length());
            }
        }
        return value;
    }

    @Override
    public void close() {
        // nothing held
    }
}
