package org.minifaas.worker.sandbox;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.minifaas.common.Threads;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * FUNCTION_NETWORK=egress: a function's network namespace gets a route to public addresses through
 * slirp4netns, a user-mode network stack that turns its packets into ordinary connections of the functions'
 * account on the host, which {@link EgressFirewall} keeps off the host itself, loopback, private and
 * link-local addresses. Per command: a holder process owns a new user and network namespace, slirp4netns
 * attaches to it (gateway 10.0.2.2 with host loopback disabled, DNS 10.0.2.3), and the sandbox is started in
 * that network namespace (nsenter) before bubblewrap makes everything else new. Both helpers die with the
 * worker (a pipe from it closes; the parent-death signal too) and are stopped when the command ends.
 *
 * <p>Needs root (the firewall and the account switch), nftables, slirp4netns and /dev/net/tun; where any is
 * missing, functions get no network at all and the worker says why at start.
 */
final class Egress {
    private static final AtomicLong SEQUENCE = new AtomicLong();
    private static final Logger log = LoggerFactory.getLogger(Egress.class);
    private static final ExecutorService REAPER = Executors.newSingleThreadExecutor(Threads.daemon("egress-reaper"));
    private static final ScheduledExecutorService WATCHER =
            Executors.newSingleThreadScheduledExecutor(Threads.daemon("egress-firewall"));

    private final Path dir;
    private final RunAccount account;
    private final String setpriv;
    private volatile boolean firewallInPlace = true;

    private Egress(Path dir, RunAccount account, String setpriv) {
        this.dir = dir;
        this.account = account;
        this.setpriv = setpriv;
    }

    /** Prepares egress for functions run as {@code account}; the reason it is not possible here otherwise. */
    static Egress prepare(Path stateDir, Optional<RunAccount> account, boolean root, String setpriv)
            throws IOException, InterruptedException {
        if (!root || account.isEmpty()) {
            throw new IOException("needs a root worker with RUN_AS_USER (the firewall matches that account)");
        }
        for (String tool : List.of("slirp4netns", "nft", "nsenter", "unshare")) {
            if (BubblewrapSandbox.findOnPath(tool).isEmpty()) {
                throw new IOException(tool + " is not installed (apt-get install slirp4netns nftables)");
            }
        }
        Path tun = Path.of("/dev/net/tun");
        if (!Files.exists(tun)) {
            throw new IOException("/dev/net/tun is missing");
        }
        // slirp4netns opens it as the functions' account; Debian's udev makes it 0666, some hosts 0600
        Files.setPosixFilePermissions(tun, PosixFilePermissions.fromString("rw-rw-rw-"));
        EgressFirewall.install(account.get().uid());
        Path dir = stateDir.resolve("egress");
        Files.createDirectories(dir);
        try (var stale = Files.list(dir)) { // runs of a worker killed before it could remove them
            for (Path run : stale.filter(p -> p.getFileName().toString().startsWith("run-"))
                    .toList()) {
                Files.deleteIfExists(run.resolve("ready"));
                Files.deleteIfExists(run);
            }
        }
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx--x--x"));
        Files.writeString(dir.resolve("resolv.conf"), "nameserver 10.0.2.3\n");
        Egress egress = new Egress(dir, account.get(), setpriv);
        egress.watchFirewall();
        return egress;
    }

    /**
     * Checks every second that the firewall table is still there (someone may flush the host's ruleset, e.g.
     * `systemctl reload nftables`), puts it back when it is not, and refuses egress until it is.
     */
    private void watchFirewall() {
        WATCHER.scheduleWithFixedDelay(
                () -> {
                    try {
                        // one `nft list` a second while the table is there (it was two: ~3 ms of CPU a second idle)
                        if (EgressFirewall.installed()) {
                            firewallInPlace = true;
                            return;
                        }
                        firewallInPlace = false;
                        log.warn(
                                "the egress firewall table {} is gone; functions get no network until it is back",
                                EgressFirewall.TABLE);
                        EgressFirewall.install(account.uid());
                        firewallInPlace = EgressFirewall.installed();
                        if (firewallInPlace) {
                            log.info("egress firewall table {} installed again", EgressFirewall.TABLE);
                        }
                    } catch (IOException e) {
                        firewallInPlace = false;
                        log.warn("egress firewall check failed: {}", e.toString());
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                },
                1,
                1,
                TimeUnit.SECONDS);
    }

    /** Whether the firewall table was there at the last check (a second ago at most): egress is refused if not. */
    boolean firewallInPlace() {
        return firewallInPlace;
    }

    /** The sandbox's /etc/resolv.conf: slirp4netns's DNS forwarder. */
    Path resolvConf() {
        return dir.resolve("resolv.conf");
    }

    /**
     * A network namespace routed through slirp4netns, for one command; close it when the command ended. Both
     * helpers start through {@code join} (the command's cgroup prefix), so what they use counts against the
     * function's limits. Fails, and the command does not run, while the firewall table is missing (see
     * {@link #watchFirewall}).
     */
    Attachment attach(List<String> join) throws IOException, InterruptedException {
        if (!firewallInPlace) {
            throw new IOException("the egress firewall table " + EgressFirewall.TABLE + " is missing");
        }
        Path run = dir.resolve("run-" + ProcessHandle.current().pid() + "-" + SEQUENCE.incrementAndGet());
        Files.createDirectory(run);
        Files.setAttribute(run, "unix:uid", account.uid());
        List<String> asAccount = List.of(
                setpriv,
                "--reuid=" + account.uid(),
                "--regid=" + account.gid(),
                "--clear-groups",
                "--pdeathsig",
                "KILL",
                "--");
        List<String> holderCommand = new ArrayList<>(join);
        holderCommand.addAll(asAccount);
        holderCommand.addAll(List.of(
                "unshare", "--map-user=" + account.uid(), "--map-group=" + account.gid(), "--net", "--", "cat", "-"));
        Process holder = start(holderCommand);
        Process slirp = null;
        try {
            String ownNet = Files.readSymbolicLink(Path.of("/proc/self/ns/net")).toString();
            Path holderNet = Path.of("/proc", Long.toString(holder.pid()), "ns", "net");
            // its namespaces exist, and its user namespace has its id maps: unshare writes them just after creating
            // the namespaces, and a sandbox entering the namespace before that has no mapped ids there, so that
            // bubblewrap's own user namespace is refused (EPERM), seen on a loaded machine
            Path holderProc = Path.of("/proc", Long.toString(holder.pid()));
            await(
                    () -> !ownNet.equals(Files.readSymbolicLink(holderNet).toString())
                            && !Files.readString(holderProc.resolve("uid_map")).isBlank()
                            && !Files.readString(holderProc.resolve("gid_map")).isBlank(),
                    holder,
                    "its namespaces");
            List<String> slirpCommand = new ArrayList<>(join);
            slirpCommand.addAll(asAccount);
            // at most 4096 connections at once for one function
            slirpCommand.addAll(List.of(
                    "sh",
                    "-c",
                    "ulimit -n 4096 && exec slirp4netns --configure "
                            + "--mtu=65520 --disable-host-loopback --enable-seccomp --ready-fd 3 --exit-fd 0 "
                            + "--userns-path=/proc/$0/ns/user $0 tap0 3>\"$1\"",
                    Long.toString(holder.pid()),
                    run.resolve("ready").toString()));
            slirp = start(slirpCommand);
            Path ready = run.resolve("ready");
            Process s = slirp;
            await(() -> Files.exists(ready, LinkOption.NOFOLLOW_LINKS) && Files.size(ready) > 0, s, "slirp4netns");
            return new Attachment(holder, slirp, run);
        } catch (IOException | InterruptedException | RuntimeException e) {
            new Attachment(holder, slirp, run).close();
            throw e;
        }
    }

    /**
     * Starts a helper whose standard input is a pipe from this JVM, never written nor closed while the helper is
     * needed: the holder ({@code cat}) and slirp4netns ({@code --exit-fd 0}) end when it closes, which is at the
     * latest when the worker dies. Their parent-death signal alone left a helper behind when the worker was killed
     * between starting it and its {@code setpriv} setting that signal (the helper then belongs to init).
     */
    private static Process start(List<String> command) throws IOException {
        return new ProcessBuilder(command)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
    }

    @FunctionalInterface
    private interface Check {
        boolean done() throws IOException;
    }

    private static void await(Check check, Process process, String what) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            try {
                if (check.done()) {
                    return;
                }
            } catch (IOException e) {
                // not there yet
            }
            if (!process.isAlive()) {
                throw new IOException(
                        "the function's network could not be set up: " + what + " exited with " + process.exitValue());
            }
            if (System.nanoTime() > deadline) {
                throw new IOException("the function's network could not be set up: " + what + " is not ready");
            }
            Thread.sleep(1);
        }
    }

    /** One command's network: the namespaces to enter, and the helpers to stop afterwards. */
    static final class Attachment implements AutoCloseable {
        private final Process holder;
        private final Process slirp;
        private final Path run;

        private Attachment(Process holder, Process slirp, Path run) {
            this.holder = holder;
            this.slirp = slirp;
            this.run = run;
        }

        /** The command prefix that enters the network namespace (run as the account, before bubblewrap). */
        List<String> enter() {
            String ns = "/proc/" + holder.pid() + "/ns/";
            return List.of("nsenter", "--preserve-credentials", "--user=" + ns + "user", "--net=" + ns + "net", "--");
        }

        /** Whether both helpers still run (one made ahead may have been killed meanwhile). */
        boolean alive() {
            return holder.isAlive() && slirp != null && slirp.isAlive();
        }

        /** The helpers' process ids. */
        List<Long> pids() {
            return slirp == null ? List.of(holder.pid()) : List.of(holder.pid(), slirp.pid());
        }

        /** Kills both helpers now; waits for them and removes the run's directory off the task's path. */
        @Override
        public void close() {
            for (Process p : new Process[] {slirp, holder}) {
                if (p != null) {
                    p.destroyForcibly();
                }
            }
            REAPER.execute(() -> {
                for (Process p : new Process[] {slirp, holder}) {
                    if (p != null) {
                        p.onExit().join();
                    }
                }
                try {
                    Files.deleteIfExists(run.resolve("ready"));
                    Files.deleteIfExists(run);
                } catch (IOException e) {
                    // a directory of the state dir, tried again never: harmless
                }
            });
        }
    }
}
