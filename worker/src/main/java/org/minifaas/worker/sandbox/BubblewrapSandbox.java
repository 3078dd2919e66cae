package org.minifaas.worker.sandbox;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * Runs each command in a bubblewrap sandbox of its own, as an unprivileged host account (switched to
 * with setpriv when the worker is root): new user, PID, mount, IPC, UTS, network and cgroup namespaces;
 * the system read-only; only the command's own mounts writable; private size-capped tmpfs on /tmp and
 * /dev/shm; no capabilities, no_new_privs, no nested user namespaces, a new session; killed with the
 * worker. Memory, processes and CPU are limited by a control group per command ({@link Cgroups}), or,
 * where none is writable, by rlimits.
 *
 * <p>Why bubblewrap: a maintained, small (setuid-free here) tool that Flatpak relies on, in Debian and in
 * every distribution; unshare(1) would need us to assemble the mounts ourselves, and nsjail is not packaged
 * in Debian 12.
 */
public final class BubblewrapSandbox implements Sandbox {
    /**
     * Joins the command's cgroups, then becomes the command: the first process is limited from its start. Its
     * first argument is the seccomp program to hand bubblewrap on fd 9, or "-".
     */
    private static final String JOIN = "f=$1; z=$2; shift 2; echo 1000 > /proc/self/oom_score_adj 2>/dev/null; "
            + "[ \"$z\" = - ] || ulimit -f \"$z\" || exit 125; "
            + "while [ \"$1\" != -- ]; do echo $$ > \"$1\" || exit 125; shift; done; shift; "
            + "if [ \"$f\" = - ]; then exec \"$@\"; else exec \"$@\" 9<\"$f\"; fi";

    private static final String FILTER = "no-user-namespaces.bpf";
    private static final List<String> SYSTEM_LINKS = List.of("bin", "sbin", "lib", "lib32", "lib64", "libx32");
    private static final List<String> SYSTEM_ETC =
            List.of("ssl", "ca-certificates", "alternatives", "localtime", "ld.so.cache");

    private final String bwrap;
    private final String setpriv;
    private final String prlimit;
    private final Cgroups cgroups;
    private final Path etc;
    private final boolean root;
    private final boolean procMounted;
    /** Nested user namespaces are refused by bubblewrap's sysctl, else by {@link UserNamespaceFilter} on fd 9. */
    private final boolean disableUserns;

    private volatile ReadyNetworks readyNetworks;
    /** FUNCTION_NETWORK=egress where this host allows it, else null (and why in {@link #egressProblem}). */
    private volatile Egress egress;

    private volatile String egressProblem = "not asked for (FUNCTION_NETWORK=none)";

    private BubblewrapSandbox(
            String bwrap, Cgroups cgroups, Path etc, boolean root, boolean procMounted, boolean disableUserns) {
        this.bwrap = bwrap;
        this.setpriv = findOnPath("setpriv").orElse("/usr/bin/setpriv");
        this.prlimit = findOnPath("prlimit").orElse("/usr/bin/prlimit");
        this.cgroups = cgroups;
        this.etc = etc;
        this.root = root;
        this.procMounted = procMounted;
        this.disableUserns = disableUserns;
    }

    /**
     * Prepares the sandbox and proves it works by running a command in it as {@code probeAccount}.
     *
     * @param stateDir a directory of the worker's where the sandbox's /etc files are written
     * @throws IllegalStateException when no sandbox can be started here, with the reason and the way out
     */
    public static BubblewrapSandbox start(Path stateDir, Optional<RunAccount> probeAccount)
            throws IOException, InterruptedException {
        return start(stateDir, probeAccount, true, true);
    }

    /**
     * As {@link #start(Path, Optional)}, with {@link Network#EGRESS} for functions where the host allows it
     * (otherwise they get {@link Network#NONE}, and {@link #warnings()} says why).
     */
    public static BubblewrapSandbox startWithEgress(Path stateDir, Optional<RunAccount> account)
            throws IOException, InterruptedException {
        BubblewrapSandbox sandbox = start(stateDir, account, true, true);
        try {
            sandbox.egress = Egress.prepare(stateDir, account, sandbox.root, sandbox.setpriv);
            sandbox.egressProblem = null;
        } catch (IOException e) {
            sandbox.egressProblem = e.getMessage();
        }
        return sandbox;
    }

    /**
     * As {@link #start(Path, Optional)}; {@code trySysctl} false goes straight to the seccomp filter,
     * {@code useCgroups} false to the rlimits (what a container or a non-root worker gets).
     */
    static BubblewrapSandbox start(
            Path stateDir, Optional<RunAccount> probeAccount, boolean trySysctl, boolean useCgroups)
            throws IOException, InterruptedException {
        String bwrap = findOnPath("bwrap")
                .orElseThrow(() -> new IllegalStateException(
                        "bubblewrap (bwrap) is not installed: apt-get install bubblewrap (or set SANDBOX=off to run "
                                + "functions without a sandbox, which is unsafe)"));
        Path etc = writeEtc(stateDir.resolve("sandbox-etc"));
        boolean root = "0".equals(String.valueOf(Files.getAttribute(Path.of("/proc/self"), "unix:uid")));
        Cgroups cgroups = useCgroups ? Cgroups.detect() : Cgroups.none("not used");
        boolean filterKnown = UserNamespaceFilter.forThisMachine().isPresent();
        if (filterKnown) {
            Files.write(
                    etc.resolve(FILTER), UserNamespaceFilter.forThisMachine().get());
        }
        // The best sandbox this host allows, in order: a new /proc (Docker's masked /proc paths forbid one in a
        // user namespace), nested user namespaces refused by sysctl (a container's /proc/sys is read-only) or
        // by the seccomp filter.
        List<String> errors = new ArrayList<>();
        for (boolean proc : List.of(true, false)) {
            for (boolean sysctl : filterKnown ? (trySysctl ? List.of(true, false) : List.of(false)) : List.of(true)) {
                BubblewrapSandbox candidate = new BubblewrapSandbox(bwrap, cgroups, etc, root, proc, sysctl);
                Outcome probe = candidate.run(probeCommand(probeAccount));
                if (probe.exitCode() == 0) {
                    return candidate;
                }
                errors.add(text(probe.stderr()).trim());
            }
        }
        cgroups.close();
        throw new IllegalStateException("the sandbox does not start here: " + String.join("; ", errors)
                + " (bubblewrap needs unprivileged user namespaces: sysctl user.max_user_namespaces > 0, "
                + "and in a container the seccomp profile of docs/CONTAINERS.md; SANDBOX=off runs functions "
                + "without a sandbox, which is unsafe)");
    }

    private static SandboxCommand probeCommand(Optional<RunAccount> account) {
        return new SandboxCommand(
                List.of("/bin/true"),
                account,
                List.of(),
                "/",
                Map.of("PATH", "/usr/bin:/bin"),
                Network.NONE,
                new Limits(64, 1, 16, 1, 1 << 20),
                Duration.ofSeconds(20),
                4096);
    }

    @Override
    public boolean isolated() {
        return true;
    }

    @Override
    public boolean egress() {
        return egress != null;
    }

    @Override
    public List<String> describe() {
        String limits = cgroups.available() ? cgroups.describe() : "rlimits (" + cgroups.describe() + ")";
        return List.of(
                "isolation: bubblewrap (" + bwrap + "): user, pid, mount, ipc, uts, net, cgroup namespaces; "
                        + "no capabilities; no_new_privs; killed with the worker"
                        + (procMounted ? "" : "; no /proc inside (a new procfs is refused here)")
                        + (disableUserns ? "" : "; nested user namespaces refused by a seccomp filter"),
                "memory (FUNCTION_MEMORY_MB, tmpfs included): "
                        + (cgroups.available()
                                ? "memory cgroup, out-of-memory kills counted"
                                : "RLIMIT_DATA per process"),
                "processes (FUNCTION_MAX_PROCESSES): "
                        + (cgroups.available() ? "pids cgroup" : "RLIMIT_NPROC inside the sandbox's user namespace"),
                "cpu (FUNCTION_CPUS): " + (cgroups.limitsCpu() ? "cpu cgroup quota" : "not limited here"),
                "/tmp and /dev/shm (FUNCTION_TMP_MB): private tmpfs of that size",
                "files (FUNCTION_MAX_FILE_BYTES): RLIMIT_FSIZE",
                egress != null
                        ? "network (FUNCTION_NETWORK=egress): public addresses only, through slirp4netns and "
                                + "the nftables table " + EgressFirewall.TABLE
                        : "network: a network namespace with loopback only",
                "limits enforced by: " + limits);
    }

    @Override
    public List<String> warnings() {
        List<String> missing = new ArrayList<>();
        if (!cgroups.available()) {
            missing.add("no writable cgroups (" + cgroups.describe() + "): memory is limited per process "
                    + "(RLIMIT_DATA), processes per sandbox (RLIMIT_NPROC), CPU not at all; run the worker as root on "
                    + "the host for per-task limits");
        } else if (!cgroups.limitsCpu()) {
            missing.add("no cpu cgroup controller: FUNCTION_CPUS is not enforced");
        }
        if (egressProblem != null && !egressProblem.startsWith("not asked")) {
            missing.add("FUNCTION_NETWORK=egress is not possible here (" + egressProblem
                    + "): functions get no network at all");
        }
        if (!procMounted) {
            missing.add("sandboxes have no /proc (a new procfs is refused here, e.g. by Docker's masked paths)");
        }
        return missing;
    }

    /**
     * Keeps {@code ahead} egress networks made for commands with {@code limits} (the functions'), so that their runs
     * do not wait for one (see {@link ReadyNetworks}); 0, or a sandbox without egress, makes none.
     */
    public void keepNetworksReady(Limits limits, int ahead) {
        keepNetworksReady(limits, ahead, BubblewrapSandbox::join);
    }

    /** As {@link #keepNetworksReady(Limits, int)}, the helpers started through {@code join} (tests break it). */
    void keepNetworksReady(Limits limits, int ahead, Function<Cgroups.Command, List<String>> join) {
        if (egress != null && ahead > 0 && readyNetworks == null) {
            readyNetworks = new ReadyNetworks(cgroups, egress, join, limits, ahead);
        }
    }

    /** The networks made ahead, if any are kept (for tests). */
    Optional<ReadyNetworks> readyNetworks() {
        return Optional.ofNullable(readyNetworks);
    }

    @Override
    public Outcome run(SandboxCommand command) throws IOException, InterruptedException {
        Limits limits = command.limits();
        Network network = command.network() == Network.EGRESS && egress == null ? Network.NONE : command.network();
        ReadyNetworks.Ready ready = network == Network.EGRESS && readyNetworks != null
                ? readyNetworks.take(limits).orElse(null)
                : null;
        // a network made ahead is owned from here: closed on any way out, before its cgroups
        try (Cgroups.Command group = ready != null ? ready.group() : cgroups.create(limits);
                Egress.Attachment ahead = ready != null ? ready.network() : null) {
            // the largest file it may write: RLIMIT_FSIZE, set by the shell that joins the cgroups (in 512-byte
            // blocks), inherited by everything after it
            List<String> argv = join(
                    group,
                    disableUserns ? "-" : etc.resolve(FILTER).toString(),
                    Long.toString(limits.maxFileBytes() / 512));
            Outcome raw;
            Optional<RunAccount> account = command.account();
            if (root && account.isPresent()) {
                RunAccount a = account.get();
                argv.addAll(List.of(setpriv, "--reuid=" + a.uid(), "--regid=" + a.gid(), "--clear-groups", "--"));
            }
            // the network's helpers join the same cgroups (without the seccomp program: they are not sandboxed);
            // one made ahead is in the cgroups it came with
            try (Egress.Attachment fresh =
                    ahead == null && network == Network.EGRESS ? egress.attach(join(group)) : null) {
                Egress.Attachment attached = ahead != null ? ahead : fresh;
                if (attached != null) {
                    argv.addAll(attached.enter());
                }
                argv.addAll(bwrapArguments(command, network));
                argv.add("--");
                if (!cgroups.available()) {
                    // Without cgroups, rlimits, set inside the sandbox: RLIMIT_NPROC then counts the processes of
                    // this sandbox's user namespace only, not every process of the account on the host (all the
                    // workers' functions, in containers).
                    argv.addAll(List.of(
                            prlimit, "--nproc=" + limits.maxProcesses(), "--data=" + limits.memoryBytes(), "--"));
                }
                argv.addAll(command.argv());
                // bubblewrap's PID namespace ends with its first process: no process group to hunt for
                raw = ProcessRunner.run(
                        argv,
                        Path.of("/"),
                        command.env(),
                        command.timeout(),
                        command.outputCap(),
                        false,
                        command.output(),
                        command.cancellation());
            }
            boolean oom = cgroups.available() ? group.oomKills() > 0 : RefusedMemory.in(raw.exitCode(), raw.stderr());
            return new Outcome(
                    raw.exitCode(),
                    raw.timedOut(),
                    oom,
                    raw.stdout(),
                    raw.stderr(),
                    raw.elapsed(),
                    raw.cancelled(),
                    false);
        }
    }

    /** The prefix that moves a command's helper into {@code group}: no seccomp program, no file size limit. */
    static List<String> join(Cgroups.Command group) {
        return join(group, "-", "-");
    }

    /**
     * The prefix that moves a command into {@code group}, hands it {@code seccomp} on fd 9 (or "-") and limits the
     * files it writes to {@code fileBlocks} 512-byte blocks (or "-").
     */
    private static List<String> join(Cgroups.Command group, String seccomp, String fileBlocks) {
        List<String> prefix = new ArrayList<>(List.of("/bin/sh", "-c", JOIN, "sh", seccomp, fileBlocks));
        group.dirs().forEach(d -> prefix.add(d.resolve("cgroup.procs").toString()));
        prefix.add("--");
        return prefix;
    }

    private List<String> bwrapArguments(SandboxCommand command, Network network) throws IOException {
        List<String> a = new ArrayList<>(List.of(bwrap, "--unshare-user", "--unshare-all"));
        if (network != Network.NONE) {
            a.add("--share-net"); // the host's, or the egress namespace it was started in
        }
        a.addAll(disableUserns ? List.of("--disable-userns") : List.of("--seccomp", "9"));
        a.addAll(List.of("--die-with-parent", "--new-session", "--hostname", "minifaas"));
        int uid = command.account().map(RunAccount::uid).orElse(currentId("-u"));
        int gid = command.account().map(RunAccount::gid).orElse(currentId("-g"));
        a.addAll(List.of("--uid", Integer.toString(uid), "--gid", Integer.toString(gid)));
        a.addAll(List.of("--ro-bind", "/usr", "/usr"));
        for (String name : SYSTEM_LINKS) {
            Path p = Path.of("/", name);
            if (Files.isSymbolicLink(p)) {
                a.addAll(List.of("--symlink", Files.readSymbolicLink(p).toString(), p.toString()));
            } else if (Files.isDirectory(p)) {
                a.addAll(List.of("--ro-bind", p.toString(), p.toString()));
            }
        }
        for (String name : List.of("passwd", "group", "hosts", "nsswitch.conf")) {
            a.addAll(List.of("--ro-bind", etc.resolve(name).toString(), "/etc/" + name));
        }
        for (String name : SYSTEM_ETC) {
            a.addAll(List.of("--ro-bind-try", "/etc/" + name, "/etc/" + name));
        }
        if (network == Network.HOST) {
            a.addAll(List.of("--ro-bind-try", "/etc/resolv.conf", "/etc/resolv.conf"));
        } else if (network == Network.EGRESS) {
            a.addAll(List.of("--ro-bind", egress.resolvConf().toString(), "/etc/resolv.conf"));
        }
        if (procMounted) {
            a.addAll(List.of("--proc", "/proc"));
        }
        a.addAll(List.of("--dev", "/dev"));
        String tmpBytes = Long.toString(command.limits().tmpBytes());
        a.addAll(List.of("--size", tmpBytes, "--perms", "1777", "--tmpfs", "/tmp"));
        a.addAll(List.of("--size", tmpBytes, "--perms", "1777", "--tmpfs", "/dev/shm"));
        for (Mount m : command.mounts()) {
            a.addAll(List.of(m.writable() ? "--bind" : "--ro-bind", m.source().toString(), m.target()));
        }
        a.addAll(List.of("--remount-ro", "/", "--chdir", command.workDir()));
        return a;
    }

    @Override
    public void close() {
        if (readyNetworks != null) {
            readyNetworks.close();
        }
        cgroups.close();
    }

    /** The sandbox's own passwd, group, hosts and nsswitch.conf: nothing of the host's accounts. */
    private static Path writeEtc(Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        write(
                dir.resolve("passwd"),
                "root:x:0:0:root:/root:/usr/sbin/nologin\n"
                        + "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n");
        write(dir.resolve("group"), "root:x:0:\nnogroup:x:65534:\n");
        write(dir.resolve("hosts"), "127.0.0.1 localhost minifaas\n::1 localhost ip6-localhost\n");
        write(dir.resolve("nsswitch.conf"), "passwd: files\ngroup: files\nhosts: files dns\n");
        return dir;
    }

    private static void write(Path file, String content) throws IOException {
        Files.writeString(file, content, StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
    }

    static Optional<String> findOnPath(String name) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            Path p = Path.of(dir.isEmpty() ? "." : dir, name);
            if (Files.isExecutable(p) && !Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                return Optional.of(p.toAbsolutePath().toString());
            }
        }
        return Optional.empty();
    }

    private static int currentId(String flag) {
        try {
            return ((Number) Files.getAttribute(Path.of("/proc/self"), flag.equals("-u") ? "unix:uid" : "unix:gid"))
                    .intValue();
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the worker's own uid/gid", e);
        }
    }

    private static String text(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }
}
