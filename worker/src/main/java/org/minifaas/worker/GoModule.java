package org.minifaas.worker;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * What the worker reads of a cloned repository before building it: the files it names must be regular files
 * (never links, which the worker does not follow), and go.mod may replace modules only with paths inside the
 * repository. Read as root without following links; the build itself runs in the sandbox.
 */
final class GoModule {
    private static final Path ROOT = Path.of("/repository");

    private GoModule() {}

    /** Why the repository cannot be built, or empty. */
    static Optional<String> problem(Path src) throws IOException {
        Optional<String> link = RepositoryFiles.linkRefused(src, List.of("main.go", "go.mod", "go.sum"));
        if (link.isPresent()) {
            return link;
        }
        if (!Files.isRegularFile(src.resolve("main.go"), LinkOption.NOFOLLOW_LINKS)) {
            return Optional.of("no main.go in the repository root");
        }
        for (String target : replaceTargets(read(src.resolve("go.mod")))) {
            if (isLocalPath(target) && !ROOT.resolve(target).normalize().startsWith(ROOT)) {
                return Optional.of(
                        "go.mod replaces a module with " + target + ", a path outside the repository: refused");
            }
        }
        return Optional.empty();
    }

    /** Whether go.mod has a require directive (then the build downloads modules first). */
    static boolean requiresModules(Path src) throws IOException {
        return read(src.resolve("go.mod")).lines().anyMatch(l -> l.strip().startsWith("require"));
    }

    /** The right-hand sides of go.mod's replace directives, single-line and in blocks. */
    static List<String> replaceTargets(String goMod) {
        List<String> targets = new java.util.ArrayList<>();
        boolean inBlock = false;
        for (String raw : goMod.split("\n")) {
            String line = raw.replaceAll("//.*", "").strip();
            if (inBlock && line.startsWith(")")) {
                inBlock = false;
                continue;
            }
            if (line.matches("replace\\s*\\(.*")) {
                inBlock = true;
                continue;
            }
            if ((inBlock || line.startsWith("replace")) && line.contains("=>")) {
                String[] right = line.substring(line.indexOf("=>") + 2).strip().split("\\s+");
                if (!right[0].isEmpty()) {
                    targets.add(right[0].replace("\"", ""));
                }
            }
        }
        return targets;
    }

    /** Go's rule: a replacement is a directory when it starts with ./ or ../ or / (or is . or ..). */
    private static boolean isLocalPath(String target) {
        return target.equals(".")
                || target.equals("..")
                || target.startsWith("./")
                || target.startsWith("../")
                || target.startsWith("/")
                || target.startsWith(".\\")
                || target.startsWith("..\\")
                || target.matches("[A-Za-z]:[\\\\/].*");
    }

    /** A regular file's text (at most 1 MiB), never through a link; empty when absent. */
    static String read(Path file) throws IOException {
        return new String(RepositoryFiles.read(file, 1 << 20), StandardCharsets.UTF_8);
    }
}
