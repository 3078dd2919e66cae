package org.minifaas.worker;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.eclipse.jgit.transport.URIish;
import org.minifaas.common.net.AddressPolicy;
import org.minifaas.worker.sandbox.Limits;
import org.minifaas.worker.sandbox.Mount;
import org.minifaas.worker.sandbox.Network;
import org.minifaas.worker.sandbox.Outcome;
import org.minifaas.worker.sandbox.RunAccount;
import org.minifaas.worker.sandbox.Sandbox;
import org.minifaas.worker.sandbox.SandboxCommand;

/**
 * Shallow clones of a task's repository, with {@code git} in a sandbox of its own: a hostile repository (objects
 * that inflate to gigabytes, a tree of a thousand copies of a large file, a server that trickles bytes) meets the
 * sandbox's memory, time and size limits instead of the worker's heap and disk. The checkout happens only when the
 * tree's files add up to at most {@code REPO_MAX_MB} and {@code REPO_MAX_FILES}. Where the functions' egress is
 * available and private addresses are refused, the clone uses it: the kernel then keeps every connection of the
 * clone (redirects included) on public addresses; otherwise the URL's host is checked up front.
 */
final class GitSource {
    static final Set<String> CLONE_SCHEMES = Set.of("http", "https", "git");
    private static final String SRC = "/task/src";
    /** Exit status of the script when the tree is over the limits. */
    private static final int TOO_LARGE = 3;
    private static final String SCRIPT = String.join("\n",
            "set -e",
            "git -c http.followRedirects=false -c core.symlinks=true -c advice.detachedHead=false "
                    + "clone --quiet --depth 1 --no-checkout --no-tags --single-branch -- \"$1\" \"$4\"",
            "cd \"$4\"",
            "git ls-tree -r -l HEAD | awk -v max=\"$2\" -v files=\"$3\" "
                    + "'{ n++; if ($4 != \"-\") s += $4 } END { if (s > max || n > files) { print s \" bytes in \" n "
                    + "\" files\" > \"/dev/stderr\"; exit " + TOO_LARGE + " } }'",
            // the repository's .gitattributes must not make checkout write more than was counted (eol, ident,
            // working-tree-encoding, filters): .git/info/attributes overrides them
            "mkdir -p .git/info && printf '* -text -eol -ident -working-tree-encoding -filter\\n' > .git/info/attributes",
            "git checkout --quiet",
            "git rev-parse 'HEAD^{tree}'");

    private final WorkerConfig config;
    private final Sandbox sandbox;
    private final AddressPolicy policy;
    private final Network network;
    private final Optional<RunAccount> account;

    /**
     * With private addresses refused and egress available, clones run as the functions' account on its egress
     * network (the firewall rules are that account's); otherwise as the build account on the host's network.
     */
    GitSource(WorkerConfig config, Sandbox sandbox, Optional<RunAccount> runAccount, Optional<RunAccount> buildAccount) {
        this.config = config;
        this.sandbox = sandbox;
        this.policy = new AddressPolicy(config.allowPrivateRepositories());
        boolean egress = !policy.allowsPrivate() && sandbox.egress();
        this.network = egress ? Network.EGRESS : Network.HOST;
        this.account = egress ? runAccount : buildAccount;
    }

    /** The account a clone runs as: the clone's directory must be its. */
    Optional<RunAccount> account() {
        return account;
    }

    /** A clone's outcome: the tree id of the checked-out commit, or the reason it failed. */
    record Cloned(String treeId, String error) {
        static Cloned failure(String error) {
            return new Cloned(null, error);
        }
    }

    /** Shallow clone of the default branch into {@code into} (an empty directory of the sandbox's account). */
    Cloned cloneInto(String url, Path into) throws IOException, InterruptedException {
        URI uri;
        String scheme;
        try {
            uri = URI.create(url);
            scheme = String.valueOf(uri.getScheme()).toLowerCase(Locale.ROOT);
        } catch (IllegalArgumentException e) {
            return Cloned.failure("invalid repository URL");
        }
        if (!CLONE_SCHEMES.contains(scheme)) {
            return Cloned.failure("repository URL scheme '" + scheme + "' is not allowed");
        }
        // git must see the host the address check sees (parsers differ on user info, fragments and escapes)
        try {
            URIish other = new URIish(url);
            if (uri.getHost() == null || !uri.getHost().equalsIgnoreCase(other.getHost()) || uri.getRawUserInfo() != null
                    || uri.getRawFragment() != null || uri.getRawQuery() != null) {
                return Cloned.failure("ambiguous repository URL (user info, fragment, query, or a host that parses "
                        + "two ways)");
            }
        } catch (URISyntaxException e) {
            return Cloned.failure("invalid repository URL");
        }
        Optional<String> refused = policy.refusal(uri);
        if (refused.isPresent()) {
            return Cloned.failure(refused.get());
        }
        Limits limits = config.buildLimits();
        Outcome clone = sandbox.run(new SandboxCommand(
                List.of("/bin/sh", "-c", SCRIPT, "sh", url, Long.toString(config.repoMaxBytes()),
                        Long.toString(config.repoMaxFiles()), SRC),
                account, List.of(Mount.writable(into, SRC)), "/", environment(), network, limits,
                config.cloneTimeout(), 64 * 1024));
        String out = new String(clone.stdout(), StandardCharsets.UTF_8).trim();
        if (clone.timedOut()) {
            return Cloned.failure("repository not found or not reachable within " + config.cloneTimeout().toSeconds()
                    + " s: " + url);
        }
        if (clone.outOfMemory()) {
            return Cloned.failure("the clone reached the memory limit (BUILD_MEMORY_MB=" + config.buildMemoryMb() + ")");
        }
        if (clone.exitCode() == TOO_LARGE) {
            String[] size = new String(clone.stderr(), StandardCharsets.UTF_8).trim().split(" ");
            return Cloned.failure("the repository is too large: " + String.join(" ", size) + " (REPO_MAX_MB="
                    + config.repoMaxBytes() / (1024 * 1024) + ", REPO_MAX_FILES=" + config.repoMaxFiles() + ")");
        }
        if (clone.exitCode() != 0 || !out.matches("[0-9a-f]{40,64}")) {
            // one answer for a closed port, an open one that is not Git, a missing repository: a clone must not
            // be a port scanner
            return Cloned.failure("repository not found or not reachable within " + config.cloneTimeout().toSeconds()
                    + " s: " + url);
        }
        return new Cloned(out, null);
    }

    /** git's environment: no configuration of the host, no prompts, the remote protocols of CLONE_SCHEMES only. */
    private static Map<String, String> environment() {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("PATH", "/usr/bin:/bin");
        env.put("HOME", "/tmp");
        env.put("LANG", "C.UTF-8");
        env.put("GIT_CONFIG_NOSYSTEM", "1");
        env.put("GIT_CONFIG_GLOBAL", "/dev/null");
        env.put("GIT_TERMINAL_PROMPT", "0");
        env.put("GIT_ALLOW_PROTOCOL", "http:https:git");
        env.put("GIT_LFS_SKIP_SMUDGE", "1");
        return env;
    }
}
