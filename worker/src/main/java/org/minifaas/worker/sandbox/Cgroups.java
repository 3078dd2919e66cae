package org.minifaas.worker.sandbox;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.minifaas.common.Threads;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A control group per sandboxed command, under a group of this worker process: the memory (tmpfs
 * included), process and CPU limits of {@link Limits}, and the count of out-of-memory kills. Works with
 * cgroup v2 (unified) and with v1's separate memory, pids and cpu hierarchies; where neither is writable
 * (a container's read-only cgroupfs, a user without delegation) {@link #available()} is false and the
 * sandbox falls back to rlimits.
 */
final class Cgroups {
    private static final Logger log = LoggerFactory.getLogger(Cgroups.class);
    private static final Path ROOT = Path.of("/sys/fs/cgroup");
    private static final AtomicLong SEQUENCE = new AtomicLong();
    /** This worker's groups: minifaas-PID-N (N tells apart several sandboxes of one process, as in tests). */
    private static final Pattern OWN_GROUP = Pattern.compile("minifaas-(\\d+)(-\\d+)?");

    private static final AtomicLong INSTANCES = new AtomicLong();
    private static final ExecutorService REMOVER = Executors.newSingleThreadExecutor(Threads.daemon("cgroup-remover"));

    private final Version version;
    /** Per controller (v1) or the single "" entry (v2): this worker's group, parent of the commands' groups. */
    private final Map<String, Path> bases;

    private final String unavailableReason;

    enum Version {
        V1,
        V2,
        NONE
    }

    private Cgroups(Version version, Map<String, Path> bases, String unavailableReason) {
        this.version = version;
        this.bases = bases;
        this.unavailableReason = unavailableReason;
    }

    /** Finds a writable cgroup hierarchy and creates this worker's group in it (removing dead workers' groups). */
    public static Cgroups detect() {
        String self = ProcessHandle.current().pid() + "-" + INSTANCES.incrementAndGet();
        try {
            Map<String, String> own = ownPaths(Files.readAllLines(Path.of("/proc/self/cgroup")));
            Cgroups found = Files.exists(ROOT.resolve("cgroup.controllers")) ? v2(own, self) : v1(own, self);
            found.probe();
            return found;
        } catch (IOException | RuntimeException e) {
            return new Cgroups(Version.NONE, Map.of(), String.valueOf(e.getMessage()));
        }
    }

    /** No cgroups: the sandbox falls back to rlimits. */
    static Cgroups none(String reason) {
        return new Cgroups(Version.NONE, Map.of(), reason);
    }

    public boolean available() {
        return version != Version.NONE;
    }

    /** One line for the worker's start log. */
    public String describe() {
        return switch (version) {
            case V1 ->
                "cgroup v1 (" + String.join(", ", bases.keySet()) + ") under "
                        + bases.get("memory").getParent();
            case V2 -> "cgroup v2 under " + bases.get("").getParent();
            case NONE -> "no writable cgroups (" + unavailableReason + ")";
        };
    }

    /** Whether CPU time can be limited. */
    public boolean limitsCpu() {
        return version == Version.V2 || bases.containsKey("cpu");
    }

    /** The process-id map lines of /proc/self/cgroup by controller ("" for v2). */
    static Map<String, String> ownPaths(List<String> lines) {
        Map<String, String> paths = new LinkedHashMap<>();
        for (String line : lines) {
            String[] parts = line.split(":", 3);
            if (parts.length < 3) {
                continue;
            }
            if (parts[1].isEmpty()) {
                paths.put("", parts[2]);
            }
            for (String controller : parts[1].split(",")) {
                if (!controller.isEmpty()) {
                    paths.put(controller, parts[2]);
                }
            }
        }
        return paths;
    }

    private static Cgroups v1(Map<String, String> own, String self) throws IOException {
        Map<String, Path> bases = new LinkedHashMap<>();
        for (String controller : List.of("memory", "pids", "cpu")) {
            Path mount = ROOT.resolve(controller);
            String path = own.get(controller);
            if (!Files.isDirectory(mount) || path == null) {
                if (!controller.equals("cpu")) {
                    throw new IOException("no cgroup v1 " + controller + " controller");
                }
                continue;
            }
            Path parent = mount.resolve(path.substring(1));
            if (!Files.isDirectory(parent)) {
                parent = mount; // a cgroup namespace shows "/" while the mount is the namespace's root
            }
            removeStale(parent);
            Path base = parent.resolve("minifaas-" + self);
            try {
                Files.createDirectories(base);
            } catch (IOException e) {
                if (controller.equals("cpu")) {
                    continue;
                }
                throw new IOException(
                        parent + " is not writable (" + e.getClass().getSimpleName() + ")");
            }
            bases.put(controller, base);
        }
        return new Cgroups(Version.V1, bases, null);
    }

    private static Cgroups v2(Map<String, String> own, String self) throws IOException {
        String path = own.getOrDefault("", "/");
        Path parent = ROOT.resolve(path.substring(1));
        String available = Files.readString(parent.resolve("cgroup.controllers"));
        if (!available.contains("memory") || !available.contains("pids")) {
            throw new IOException("the memory and pids controllers are not delegated to " + parent);
        }
        removeStale(parent);
        String enable = available.contains("cpu") ? "+memory +pids +cpu" : "+memory +pids";
        Path base = parent.resolve("minifaas-" + self);
        Files.createDirectories(base);
        try {
            Files.writeString(parent.resolve("cgroup.subtree_control"), enable);
        } catch (IOException busy) {
            // "no internal processes": a group with processes cannot hand controllers to children. Move this
            // worker into a leaf of its own, then enable them on the (now process-free) parent.
            Path leaf =
                    parent.resolve("minifaas-worker-" + ProcessHandle.current().pid());
            Files.createDirectories(leaf);
            Files.writeString(
                    leaf.resolve("cgroup.procs"),
                    Long.toString(ProcessHandle.current().pid()));
            Files.writeString(parent.resolve("cgroup.subtree_control"), enable);
        }
        Files.writeString(base.resolve("cgroup.subtree_control"), enable);
        return new Cgroups(Version.V2, Map.of("", base), null);
    }

    /** Creates, limits and removes one group, so that a failure shows at start, not on the first task. */
    private void probe() throws IOException {
        Command c = create(new Limits(64, 1, 16, 1, 1 << 20));
        c.close();
    }

    /** Removes the groups of workers that died (kill -9) without removing their own. */
    private static void removeStale(Path parent) {
        try (Stream<Path> s = Files.list(parent)) {
            for (Path dir : s.filter(Files::isDirectory).toList()) {
                Matcher m = OWN_GROUP.matcher(dir.getFileName().toString());
                if (m.matches()) {
                    long pid = Long.parseLong(m.group(1));
                    if (ProcessHandle.of(pid).isEmpty()) {
                        log.info("removing the cgroup of a worker that is gone: {}", dir);
                        destroyTree(dir);
                    }
                }
            }
        } catch (IOException e) {
            log.debug("no stale groups removed under {}: {}", parent, e.toString());
        }
    }

    /** A new group for one command, limited as {@code limits} says. */
    public Command create(Limits limits) throws IOException {
        if (version == Version.NONE) {
            return new Command(List.of(), null, version);
        }
        String name = "cmd-" + SEQUENCE.incrementAndGet() + "-" + System.nanoTime();
        List<Path> dirs = new ArrayList<>();
        try {
            if (version == Version.V2) {
                Path dir = bases.get("").resolve(name);
                Files.createDirectory(dir);
                dirs.add(dir);
                Files.writeString(dir.resolve("memory.max"), Long.toString(limits.memoryBytes()));
                writeIfPresent(dir.resolve("memory.swap.max"), "0");
                Files.writeString(dir.resolve("pids.max"), Integer.toString(limits.maxProcesses()));
                writeIfPresent(dir.resolve("cpu.max"), cpuQuota(limits) + " 100000");
                return new Command(dirs, dir.resolve("memory.events"), version);
            }
            Path memory = bases.get("memory").resolve(name);
            Files.createDirectory(memory);
            dirs.add(memory);
            Files.writeString(memory.resolve("memory.limit_in_bytes"), Long.toString(limits.memoryBytes()));
            // with swap accounting, swap too (memsw >= limit, so after it); socket buffers (v2 counts them anyway)
            writeIfPresent(memory.resolve("memory.memsw.limit_in_bytes"), Long.toString(limits.memoryBytes()));
            writeIfPresent(memory.resolve("memory.kmem.tcp.limit_in_bytes"), Long.toString(limits.memoryBytes()));
            Path pids = bases.get("pids").resolve(name);
            Files.createDirectory(pids);
            dirs.add(pids);
            Files.writeString(pids.resolve("pids.max"), Integer.toString(limits.maxProcesses()));
            if (bases.containsKey("cpu")) {
                Path cpu = bases.get("cpu").resolve(name);
                Files.createDirectory(cpu);
                dirs.add(cpu);
                Files.writeString(cpu.resolve("cpu.cfs_period_us"), "100000");
                Files.writeString(cpu.resolve("cpu.cfs_quota_us"), Long.toString(cpuQuota(limits)));
            }
            return new Command(dirs, memory.resolve("memory.oom_control"), version);
        } catch (IOException | RuntimeException e) {
            new Command(dirs, null, version).close();
            throw e;
        }
    }

    private static long cpuQuota(Limits limits) {
        return Math.max(1000, Math.round(limits.cpus() * 100_000));
    }

    private static void writeIfPresent(Path file, String value) {
        if (Files.exists(file)) {
            try {
                Files.writeString(file, value);
            } catch (IOException e) {
                log.debug("{} not set: {}", file, e.toString());
            }
        }
    }

    /** Removes the worker's own group (at shutdown); only empty groups go. */
    public void close() {
        bases.values().forEach(Cgroups::destroyTree);
    }

    private static void destroyTree(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            for (Path child : s.filter(Files::isDirectory).toList()) {
                destroyTree(child);
            }
        } catch (IOException e) {
            return;
        }
        killAll(dir);
        try {
            Files.deleteIfExists(dir);
        } catch (IOException e) {
            log.warn("cgroup {} not removed: {}", dir, e.toString());
        }
    }

    /** Kills every process of a group until none is left (new ones may be forked while we kill). */
    static void killAll(Path dir) {
        Path kill = dir.resolve("cgroup.kill");
        if (Files.exists(kill)) {
            try {
                Files.writeString(kill, "1");
            } catch (IOException e) {
                log.debug("cgroup.kill failed: {}", e.toString());
            }
        }
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (System.nanoTime() < deadline) {
            List<Long> pids = pids(dir);
            if (pids.isEmpty()) {
                return;
            }
            pids.forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        log.warn("processes left in {}: {}", dir, pids(dir));
    }

    private static List<Long> pids(Path dir) {
        try {
            return Files.readAllLines(dir.resolve("cgroup.procs")).stream()
                    .filter(l -> !l.isBlank())
                    .map(Long::parseLong)
                    .toList();
        } catch (IOException | RuntimeException e) {
            return List.of();
        }
    }

    /** The groups of one command. {@link #close()} kills whatever is left in them and removes them. */
    public static final class Command implements AutoCloseable {
        private final List<Path> dirs;
        private final Path oomFile;
        private final Version version;

        private Command(List<Path> dirs, Path oomFile, Version version) {
            this.dirs = dirs;
            this.oomFile = oomFile;
            this.version = version;
        }

        /** The directories whose cgroup.procs the command's first process must join. */
        public List<Path> dirs() {
            return dirs;
        }

        /** Out-of-memory kills in this group so far (0 without cgroups). */
        public long oomKills() {
            if (oomFile == null) {
                return 0;
            }
            return oomKillCount(read(oomFile));
        }

        @Override
        public void close() {
            // SIGKILL to whatever is left (the sandbox's PID namespace already ended with its command; the network's
            // helpers are in here too); waiting for them to be gone and removing the groups (slow for memory
            // groups) need not hold the task up
            for (Path dir : dirs) {
                pids(dir).forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
            }
            REMOVER.execute(() -> {
                for (Path dir : dirs) {
                    killAll(dir);
                }
                for (Path dir : dirs) {
                    try {
                        Files.deleteIfExists(dir);
                    } catch (IOException e) {
                        log.warn("cgroup {} not removed: {}", dir, e.toString());
                    }
                }
            });
        }

        private static String read(Path file) {
            try {
                return Files.readString(file);
            } catch (IOException e) {
                return "";
            }
        }
    }

    /** The {@code oom_kill N} line of v1's memory.oom_control or v2's memory.events. */
    static long oomKillCount(String content) {
        for (String line : content.split("\n")) {
            String[] parts = line.trim().split("\\s+");
            if (parts.length == 2 && parts[0].equals("oom_kill")) {
                return Long.parseLong(parts[1]);
            }
        }
        return 0;
    }
}
