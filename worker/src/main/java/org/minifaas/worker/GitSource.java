package org.minifaas.worker;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import org.eclipse.jgit.transport.URIish;
import org.minifaas.common.net.AddressPolicy;
import org.minifaas.common.ops.JdkHttpServer;
import org.minifaas.worker.sandbox.Cancellation;
import org.minifaas.worker.sandbox.Limits;
import org.minifaas.worker.sandbox.Mount;
import org.minifaas.worker.sandbox.Network;
import org.minifaas.worker.sandbox.Outcome;
import org.minifaas.worker.sandbox.OutputListener;
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
 *
 * <p>A task may name a branch or tag (cloned with {@code --branch}) or a full commit id (fetched by id, one commit
 * deep; from a server that refuses that, its branches and tags are fetched and the commit taken from them). Refs
 * that git could read as an option, a range or a pattern are refused before anything runs.
 */
final class GitSource {
    static final Set<String> CLONE_SCHEMES = Set.of("http", "https", "git");
    private static final String SRC = "/task/src";
    /** Exit status of the script when the tree is over the limits. */
    private static final int TOO_LARGE = 3;
    /** Exit status of the script when the repository was reached but has no such ref. */
    private static final int NO_SUCH_REF = 4;
    /** A full commit id (SHA-1 or SHA-256 repositories). */
    private static final Pattern COMMIT_ID = Pattern.compile("[0-9a-fA-F]{40}|[0-9a-fA-F]{64}");

    private static final String REF_SPECIALS = "~^:?*[\\";
    private static final int REF_MAX_LENGTH = 255;
    /** How long the in-process ref question may take before the task is cloned instead. */
    private static final Duration REF_QUESTION_TIMEOUT = Duration.ofSeconds(10);
    /**
     * $1 URL, $2 max bytes, $3 max files, $4 directory, $5 what $6 is: "default" (no ref), "name" (branch or tag),
     * "commit". Prints the commit id and the tree id checked out.
     */
    private static final String SCRIPT = String.join(
            "\n",
            "set -e",
            "g() { git -c http.followRedirects=false -c core.symlinks=true -c advice.detachedHead=false "
                    + "-c init.defaultBranch=main \"$@\"; }",
            "rev=HEAD",
            "case \"$5\" in",
            "default) g clone --quiet --depth 1 --no-checkout --no-tags --single-branch -- \"$1\" \"$4\"; cd \"$4\" ;;",
            "name)",
            "  if ! err=$(g clone --quiet --depth 1 --no-checkout --no-tags --single-branch --branch \"$6\" -- \"$1\" "
                    + "\"$4\" 2>&1); then",
            // said by git once the server answered with its refs: the repository exists, the ref does not
            "    case \"$err\" in *'not found in upstream'*) exit " + NO_SUCH_REF + " ;; esac",
            "    printf '%s\\n' \"$err\" >&2; exit 1",
            "  fi",
            "  cd \"$4\" ;;",
            "commit)",
            "  cd \"$4\"; g init --quiet",
            // a commit the server does not have: "not our ref" (protocol v2). Only a server that refuses every commit
            // it does not advertise (protocol v0: "unadvertised object", said of missing commits too) makes the
            // worker fetch its branches and tags, whole, and take the commit from them
            "  if ! err=$(g fetch --quiet --depth 1 --no-tags \"$1\" \"$6\" 2>&1); then",
            "    case \"$err\" in",
            "    *'not our ref'*) exit " + NO_SUCH_REF + " ;;",
            "    *'unadvertised object'*) g fetch --quiet --no-tags \"$1\" '+refs/heads/*:refs/remotes/origin/*' "
                    + "'+refs/tags/*:refs/tags/*' ;;",
            "    *) printf '%s\\n' \"$err\" >&2; exit 1 ;;",
            "    esac",
            "  fi",
            "  rev=$(g rev-parse --verify --quiet \"$6^{commit}\") || exit " + NO_SUCH_REF + " ;;",
            "esac",
            "git ls-tree -r -l \"$rev\" | awk -v max=\"$2\" -v files=\"$3\" "
                    + "'{ n++; if ($4 != \"-\") s += $4 } END { if (s > max || n > files) { print s \" bytes in \" n "
                    + "\" files\" > \"/dev/stderr\"; exit " + TOO_LARGE + " } }'",
            // the repository's .gitattributes must not make checkout write more than was counted (eol, ident,
            // working-tree-encoding, filters): .git/info/attributes overrides them
            "mkdir -p .git/info && printf '* -text -eol -ident -working-tree-encoding -filter\\n' > .git/info/attributes",
            "if [ \"$rev\" = HEAD ]; then g checkout --quiet; else g checkout --quiet --detach \"$rev\"; fi",
            "git rev-parse HEAD",
            "git rev-parse 'HEAD^{tree}'");

    private final WorkerConfig config;
    private final Sandbox sandbox;
    private final AddressPolicy policy;
    private final Network network;
    private final Optional<RunAccount> account;
    private final RemoteRefs remoteRefs;
    private final RefAnswers refAnswers = new RefAnswers();

    /**
     * With private addresses refused and egress available, clones run as the functions' account on its egress
     * network (the firewall rules are that account's); otherwise as the build account on the host's network.
     */
    GitSource(
            WorkerConfig config, Sandbox sandbox, Optional<RunAccount> runAccount, Optional<RunAccount> buildAccount) {
        this.config = config;
        this.sandbox = sandbox;
        this.policy = new AddressPolicy(config.allowPrivateRepositories());
        boolean egress = !policy.allowsPrivate() && sandbox.egress();
        this.network = egress ? Network.EGRESS : Network.HOST;
        this.account = egress ? runAccount : buildAccount;
        Duration cloneTimeout = config.cloneTimeout();
        this.remoteRefs = new RemoteRefs(
                policy, cloneTimeout.compareTo(REF_QUESTION_TIMEOUT) < 0 ? cloneTimeout : REF_QUESTION_TIMEOUT);
    }

    /** The network a clone gets: egress (public addresses only) or the host's. */
    Network network() {
        return network;
    }

    /** The account a clone runs as: the clone's directory must be its. */
    Optional<RunAccount> account() {
        return account;
    }

    /**
     * A clone's outcome: the commit id and tree id checked out, or the task's one-line reason it failed, or
     * {@code cancelled}.
     */
    record Cloned(String commit, String treeId, String error, boolean cancelled) {
        static Cloned failure(String error) {
            return new Cloned(null, null, error, false);
        }
    }

    /**
     * Shallow clone of {@code ref} (a branch, a tag or a full commit id; null or empty: the default branch) into
     * {@code into}, an empty directory of the sandbox's account.
     */
    Cloned cloneInto(String url, String ref, Path into, Cancellation cancellation)
            throws IOException, InterruptedException {
        Cloned refused = refused(url);
        if (refused != null) {
            return refused;
        }
        String kind = "default";
        if (ref != null && !ref.isEmpty()) {
            Optional<String> problem = refProblem(ref);
            if (problem.isPresent()) {
                return Cloned.failure("invalid ref '" + printable(ref) + "': " + problem.get());
            }
            kind = COMMIT_ID.matcher(ref).matches() ? "commit" : "name";
            ref = kind.equals("commit") ? ref.toLowerCase(Locale.ROOT) : ref;
        }
        Limits limits = config.buildLimits();
        Outcome clone = sandbox.run(new SandboxCommand(
                List.of(
                        "/bin/sh",
                        "-c",
                        SCRIPT,
                        "sh",
                        url,
                        Long.toString(config.repoMaxBytes()),
                        Long.toString(config.repoMaxFiles()),
                        SRC,
                        kind,
                        ref == null ? "" : ref),
                account,
                List.of(Mount.writable(into, SRC)),
                "/",
                environment(),
                network,
                limits,
                config.cloneTimeout(),
                64 * 1024,
                OutputListener.NONE,
                cancellation));
        if (clone.cancelled()) {
            return new Cloned(null, null, null, true);
        }
        String[] ids = new String(clone.stdout(), StandardCharsets.UTF_8).trim().split("\n");
        if (clone.timedOut()) {
            return unreachable(url);
        }
        if (clone.outOfMemory()) {
            return Cloned.failure("clone failed: the clone reached the memory limit (BUILD_MEMORY_MB="
                    + config.buildMemoryMb() + ")");
        }
        if (clone.exitCode() == TOO_LARGE) {
            String[] size =
                    new String(clone.stderr(), StandardCharsets.UTF_8).trim().split(" ");
            return Cloned.failure("clone failed: the repository is too large: " + String.join(" ", size)
                    + " (REPO_MAX_MB=" + config.repoMaxBytes() / (1024 * 1024) + ", REPO_MAX_FILES="
                    + config.repoMaxFiles() + ")");
        }
        if (clone.exitCode() == NO_SUCH_REF && ref != null) {
            return Cloned.failure("ref '" + ref + "' not found in the repository");
        }
        if (clone.exitCode() != 0
                || ids.length != 2
                || !ids[0].matches("[0-9a-f]{40,64}")
                || !ids[1].matches("[0-9a-f]{40,64}")) {
            // one answer for a closed port, an open one that is not Git, a missing repository: a clone must not
            // be a port scanner
            return unreachable(url);
        }
        return new Cloned(ids[0], ids[1], null, false);
    }

    /**
     * The commit {@code ref} names (null or empty: the default branch) at some moment after the task was queued, from
     * one ref advertisement or from a recent one that may stand for it ({@link RefAnswers}: {@code position} is the
     * task's place in the queue, null when it did not come from it; {@code created} the latest moment it may have
     * been made, null when unknown), or empty when it cannot be told: the caller then clones as usual, which reports
     * any problem. A full commit id names itself, without asking the server. Over HTTP(S) the worker asks in process
     * ({@link RemoteRefs}); otherwise, or when that cannot tell, {@code git ls-remote} asks in a sandbox like the
     * clone's.
     */
    Optional<String> resolve(String url, String ref, QueuePosition position, Instant created, Cancellation cancellation)
            throws IOException, InterruptedException {
        if (refused(url) != null) {
            return Optional.empty();
        }
        if (ref != null && !ref.isEmpty()) {
            if (refProblem(ref).isPresent()) {
                return Optional.empty();
            }
            if (COMMIT_ID.matcher(ref).matches()) {
                return Optional.of(ref.toLowerCase(Locale.ROOT));
            }
        }
        List<String> wanted = ref == null || ref.isEmpty()
                ? List.of("HEAD")
                : List.of("refs/heads/" + ref, "refs/tags/" + ref + "^{}", "refs/tags/" + ref);
        return refAnswers.commit(url, ref, position, created, () -> {
            Optional<Map<String, String>> advertised = remoteRefs.advertised(URI.create(url));
            if (advertised.isEmpty() && !cancellation.isCancelled()) {
                advertised = lsRemote(url, ref, cancellation);
            }
            // as `git clone --branch` chooses: a branch before a tag; an annotated tag by the commit it points to
            return advertised.flatMap(refs ->
                    wanted.stream().map(refs::get).filter(Objects::nonNull).findFirst());
        });
    }

    /**
     * Asks the in-process ref question of a loopback server of the worker's own, which answers a made-up
     * advertisement (a client that may ask loopback, used for this only): the first task's question then runs loaded,
     * linked code, connection and parsing included. A refused connection to a closed port warmed the connection
     * code only, and the first task paid ~20 ms more for its question than the next ones.
     */
    void warm() throws InterruptedException {
        HttpServer server;
        try {
            server = JdkHttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        } catch (IOException e) {
            remoteRefs.advertised(URI.create("http://127.0.0.1:9/warmup")); // the classes at least
            return;
        }
        byte[] advertisement = warmUpAdvertisement();
        server.createContext("/warmup/info/refs", exchange -> {
            exchange.getResponseHeaders().add("Content-Type", "application/x-git-upload-pack-advertisement");
            exchange.sendResponseHeaders(200, advertisement.length);
            exchange.getResponseBody().write(advertisement);
            exchange.close();
        });
        server.start();
        try (RemoteRefs loopback = new RemoteRefs(new AddressPolicy(true), Duration.ofSeconds(5))) {
            URI uri = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/warmup");
            for (int i = 0; i < 3; i++) {
                loopback.advertised(uri);
            }
        } catch (IOException e) {
            // closing the warm-up's client failed: nothing of a task's depends on it
        } finally {
            server.stop(0);
        }
    }

    /** A smart-HTTP advertisement of HEAD and one branch, as pkt-lines. */
    static byte[] warmUpAdvertisement() {
        String id = "0".repeat(39) + "1";
        StringBuilder out = new StringBuilder();
        for (String line : new String[] {
            "# service=git-upload-pack\n",
            null,
            id + " HEAD\0multi_ack symref=HEAD:refs/heads/main\n",
            id + " refs/heads/main\n",
            null
        }) {
            out.append(line == null ? "0000" : String.format("%04x", line.length() + 4) + line);
        }
        return out.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** {@code git ls-remote} of the refs that may be {@code ref}, in a sandbox like the clone's. */
    private Optional<Map<String, String>> lsRemote(String url, String ref, Cancellation cancellation)
            throws IOException, InterruptedException {
        List<String> argv = new ArrayList<>(List.of("git", "-c", "http.followRedirects=false", "ls-remote", "--", url));
        argv.addAll(ref == null || ref.isEmpty() ? List.of("HEAD") : List.of("refs/heads/" + ref, "refs/tags/" + ref));
        Outcome listed = sandbox.run(new SandboxCommand(
                argv,
                account,
                List.of(),
                "/",
                environment(),
                network,
                config.buildLimits(),
                config.cloneTimeout(),
                256 * 1024,
                OutputListener.NONE,
                cancellation));
        if (listed.exitCode() != 0 || listed.timedOut() || listed.cancelled()) {
            return Optional.empty();
        }
        Map<String, String> advertised = new LinkedHashMap<>();
        for (String line : new String(listed.stdout(), StandardCharsets.UTF_8).split("\n")) {
            String[] parts = line.split("\t", 2);
            if (parts.length == 2 && parts[0].matches("[0-9a-f]{40,64}")) {
                advertised.putIfAbsent(parts[1], parts[0]);
            }
        }
        return Optional.of(advertised);
    }

    private Cloned unreachable(String url) {
        return Cloned.failure("clone failed: repository not found or not reachable within "
                + config.cloneTimeout().toSeconds() + " s: " + url);
    }

    /**
     * Why a ref must not reach git, or empty: nothing git could read as an option, a range, a revision expression
     * or a pattern, and nothing a log line could be forged with.
     */
    static Optional<String> refProblem(String ref) {
        if (ref.length() > REF_MAX_LENGTH) {
            return Optional.of("longer than " + REF_MAX_LENGTH + " characters");
        }
        if (ref.startsWith("-")) {
            return Optional.of("must not start with '-'");
        }
        if (ref.contains("..")) {
            return Optional.of("must not contain '..'");
        }
        if (ref.contains("@{")) {
            return Optional.of("must not contain '@{'");
        }
        for (int i = 0; i < ref.length(); i++) {
            char c = ref.charAt(i);
            if (Character.isWhitespace(c) || Character.isSpaceChar(c) || Character.isISOControl(c)) {
                return Optional.of("must not contain whitespace or control characters");
            }
            if (REF_SPECIALS.indexOf(c) >= 0) {
                return Optional.of("must not contain any of " + REF_SPECIALS);
            }
        }
        return Optional.empty();
    }

    /** A ref as it may appear in a message: control characters as '?', at most 100 characters. */
    private static String printable(String ref) {
        StringBuilder b = new StringBuilder();
        ref.codePoints().limit(100).forEach(c -> b.appendCodePoint(Character.isISOControl(c) ? '?' : c));
        return ref.codePointCount(0, ref.length()) > 100 ? b + "..." : b.toString();
    }

    /** Why the URL is not cloned, as the task's reason, or null. */
    private Cloned refused(String url) {
        URI uri;
        String scheme;
        try {
            uri = URI.create(url);
            scheme = String.valueOf(uri.getScheme()).toLowerCase(Locale.ROOT);
        } catch (IllegalArgumentException e) {
            return Cloned.failure("clone failed: invalid repository URL");
        }
        if (!CLONE_SCHEMES.contains(scheme)) {
            return Cloned.failure("clone failed: repository URL scheme '" + scheme + "' is not allowed");
        }
        // git must see the host the address check sees (parsers differ on user info, fragments and escapes)
        try {
            URIish other = new URIish(url);
            if (uri.getHost() == null
                    || !uri.getHost().equalsIgnoreCase(other.getHost())
                    || uri.getRawUserInfo() != null
                    || uri.getRawFragment() != null
                    || uri.getRawQuery() != null) {
                return Cloned.failure("clone failed: ambiguous repository URL (user info, fragment, query, or a host "
                        + "that parses two ways)");
            }
        } catch (URISyntaxException e) {
            return Cloned.failure("clone failed: invalid repository URL");
        }
        Optional<String> refused = policy.refusal(uri);
        return refused.map(reason -> Cloned.failure("clone failed: " + reason)).orElse(null);
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
