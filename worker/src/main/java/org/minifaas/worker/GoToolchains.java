package org.minifaas.worker;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Go toolchains installed on this worker, and which one builds a repository. GO_TOOLCHAINS names them (GOROOT
 * directories or go commands, comma-separated); unset, every {@code /usr/lib/go-*} (Debian installs releases side by
 * side there), {@code /usr/local/go} and GO_BINARY found on PATH. A toolchain is told apart by the version in its
 * GOROOT. The sandbox shows builds only /usr: toolchains elsewhere work with SANDBOX=off only.
 *
 * <p>Which one: go.mod's {@code toolchain} line if it has one, else its {@code go} line, is the version asked for (a
 * minimum, as for the go command). The newest installed toolchain of the same release series at or above it builds the
 * function (a module written for 1.19 builds with Go 1.19 when installed); without one, the newest installed one above
 * it; without that, the task fails naming what was asked and what is installed. No go.mod: the newest toolchain.
 * Toolchains are never downloaded (GOTOOLCHAIN=local).
 */
final class GoToolchains {
    private static final Logger log = LoggerFactory.getLogger(GoToolchains.class);

    /** One installed Go. */
    record Toolchain(GoVersion version, Path goRoot) {
        Path go() {
            return goRoot.resolve("bin").resolve("go");
        }

        /** As runtime.Version() prints it: go1.23.5. */
        String label() {
            return "go" + version;
        }
    }

    /** The toolchain for a repository, or why there is none. */
    record Choice(Toolchain toolchain, String failure) {}

    private final List<Toolchain> installed;

    GoToolchains(List<Toolchain> installed) {
        this.installed = installed.stream()
                .sorted(Comparator.comparing(Toolchain::version))
                .toList();
    }

    /** Oldest first. */
    List<Toolchain> installed() {
        return installed;
    }

    /** The newest one, or empty when none is installed. */
    Optional<Toolchain> newest() {
        return installed.isEmpty() ? Optional.empty() : Optional.of(installed.get(installed.size() - 1));
    }

    /**
     * The toolchains GO_TOOLCHAINS names ({@code spec}, comma-separated GOROOTs or go commands), or when it is blank the
     * ones found in the usual places plus {@code goBinary}; each counted once.
     */
    static GoToolchains discover(String spec, String goBinary) {
        List<Path> roots = new ArrayList<>();
        if (spec != null && !spec.isBlank()) {
            for (String item : spec.split(",")) {
                if (!item.isBlank()) {
                    Optional<Path> root = goRoot(item.strip());
                    if (root.isEmpty()) {
                        throw new IllegalStateException("GO_TOOLCHAINS names " + item.strip()
                                + ", which is not a Go installation (no bin/go with a VERSION file)");
                    }
                    roots.add(root.get());
                }
            }
        } else {
            try (Stream<Path> s = Files.list(Path.of("/usr/lib"))) {
                s.filter(p -> p.getFileName().toString().matches("go-\\d+\\.\\d+"))
                        .sorted()
                        .forEach(roots::add);
            } catch (IOException e) {
                log.warn("cannot list /usr/lib for Go toolchains: {}", e.toString());
            }
            roots.add(Path.of("/usr/local/go"));
            goRoot(goBinary == null ? "" : goBinary).ifPresent(roots::add);
        }
        Map<Path, Toolchain> found = new LinkedHashMap<>();
        for (Path root : roots) {
            try {
                Path real = root.toRealPath();
                if (!found.containsKey(real)) {
                    version(real).ifPresent(v -> found.put(real, new Toolchain(v, real)));
                }
            } catch (IOException e) {
                // not installed there
            }
        }
        return new GoToolchains(new ArrayList<>(found.values()));
    }

    /** The GOROOT of a GOROOT directory or of a go command (bin/go inside it), or empty. */
    private static Optional<Path> goRoot(String item) {
        if (item.isBlank()) {
            return Optional.empty();
        }
        Path p = which(item).orElse(Path.of(item));
        try {
            p = p.toRealPath();
        } catch (IOException e) {
            return Optional.empty();
        }
        if (Files.isRegularFile(p) && p.getParent() != null && p.getParent().getParent() != null) {
            p = p.getParent().getParent(); // <root>/bin/go
        }
        return Files.isRegularFile(p.resolve("bin/go")) && version(p).isPresent() ? Optional.of(p) : Optional.empty();
    }

    private static Optional<Path> which(String command) {
        if (command == null || command.isBlank()) {
            return Optional.empty();
        }
        if (command.contains("/")) {
            return Optional.of(Path.of(command));
        }
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            Path candidate = Path.of(dir.isEmpty() ? "." : dir, command);
            if (Files.isExecutable(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    /** The release in GOROOT/VERSION's first line ("go1.19.8"). */
    private static Optional<GoVersion> version(Path goRoot) {
        try {
            if (!Files.isRegularFile(goRoot.resolve("bin/go"))) {
                return Optional.empty();
            }
            List<String> lines = Files.readAllLines(goRoot.resolve("VERSION"), StandardCharsets.UTF_8);
            return lines.isEmpty() ? Optional.empty() : GoVersion.parse(lines.get(0));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** Which toolchain builds the repository checked out at {@code src} (go.mod read without following links). */
    Choice choose(Path src) throws IOException {
        Path goMod = src.resolve("go.mod");
        String text = Files.isRegularFile(goMod, LinkOption.NOFOLLOW_LINKS) ? GoModule.read(goMod) : null;
        return choose(text);
    }

    /** Which toolchain builds a module with this go.mod ({@code null}: none). */
    Choice choose(String goMod) {
        if (installed.isEmpty()) {
            return new Choice(null, "no Go toolchain is installed on this worker");
        }
        if (goMod == null) {
            return new Choice(newest().get(), null);
        }
        String goLine = directive(goMod, "go");
        String toolchainLine = directive(goMod, "toolchain");
        GoVersion asked = null;
        String askedBy = null;
        if (goLine != null) {
            Optional<GoVersion> v = GoVersion.parse(goLine).filter(g -> !goLine.startsWith("go"));
            if (v.isEmpty()) {
                return new Choice(null, "go.mod's go line '" + goLine + "' is not a Go version");
            }
            asked = v.get();
            askedBy = "go " + goLine;
        }
        if (toolchainLine != null && !toolchainLine.equals("default")) {
            Optional<GoVersion> v = GoVersion.parse(toolchainLine).filter(g -> toolchainLine.startsWith("go"));
            if (v.isEmpty()) {
                return new Choice(null, "go.mod's toolchain line '" + toolchainLine + "' is not a Go toolchain");
            }
            if (asked == null || v.get().compareTo(asked) > 0) {
                asked = v.get();
                askedBy = "toolchain " + toolchainLine;
            }
        }
        if (asked == null) {
            return new Choice(newest().get(), null);
        }
        GoVersion wanted = asked;
        Optional<Toolchain> sameSeries = installed.stream()
                .filter(t -> t.version().sameSeries(wanted) && t.version().compareTo(wanted) >= 0)
                .reduce((a, b) -> b);
        Optional<Toolchain> newer = installed.stream()
                .filter(t -> t.version().compareTo(wanted) >= 0)
                .reduce((a, b) -> b);
        Optional<Toolchain> chosen = sameSeries.or(() -> newer);
        if (chosen.isPresent()) {
            return new Choice(chosen.get(), null);
        }
        return new Choice(
                null,
                "go.mod asks for Go " + wanted + " (" + askedBy + "); this worker has "
                        + installed.stream().map(Toolchain::label).collect(Collectors.joining(", "))
                        + " (no toolchain is downloaded)");
    }

    /** The argument of go.mod's first {@code name} directive, or null. */
    static String directive(String goMod, String name) {
        for (String raw : goMod.split("\n")) {
            String line = raw.replaceAll("//.*", "").strip();
            String[] parts = line.split("\\s+");
            if (parts.length == 2 && parts[0].equals(name)) {
                return parts[1];
            }
        }
        return null;
    }

    @Override
    public String toString() {
        return installed.isEmpty()
                ? "none"
                : installed.stream()
                        .map(t -> t.label() + " (" + t.goRoot() + ")")
                        .collect(Collectors.joining(", "));
    }
}
