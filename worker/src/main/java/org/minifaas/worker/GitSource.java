package org.minifaas.worker;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Set;
import java.util.Optional;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.lib.EmptyProgressMonitor;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.transport.TransportHttp;
import org.eclipse.jgit.transport.URIish;
import org.minifaas.common.net.AddressPolicy;

/**
 * Shallow clones of a task's repository (JGit, in the worker: no user code runs here). Every address a clone
 * connects to is checked against the {@link AddressPolicy}; failures are reported without telling an open
 * port from a closed one.
 */
final class GitSource {
    static final Set<String> CLONE_SCHEMES = Set.of("http", "https", "git");

    private final Duration timeout;
    private final AddressPolicy policy;
    private final GuardedConnectionFactory connections;

    GitSource(Duration timeout, AddressPolicy policy) {
        this.timeout = timeout;
        this.policy = policy;
        this.connections = new GuardedConnectionFactory(policy);
    }

    /** A clone's outcome: the tree id of the checked-out commit, or the reason it failed. */
    record Cloned(String treeId, String error) {
        static Cloned failure(String error) {
            return new Cloned(null, error);
        }
    }

    /** Shallow clone of the default branch into {@code into}. */
    Cloned cloneInto(String url, Path into) throws InterruptedException {
        String scheme;
        URI uri;
        try {
            uri = URI.create(url);
            scheme = String.valueOf(uri.getScheme()).toLowerCase(Locale.ROOT);
        } catch (IllegalArgumentException e) {
            return Cloned.failure("invalid repository URL");
        }
        if (!CLONE_SCHEMES.contains(scheme)) {
            return Cloned.failure("repository URL scheme '" + scheme + "' is not allowed");
        }
        // JGit must see the host the address check sees (they parse user info, fragments and escapes differently)
        try {
            URIish jgit = new URIish(url);
            if (uri.getHost() == null || !uri.getHost().equalsIgnoreCase(jgit.getHost()) || uri.getRawUserInfo() != null
                    || uri.getRawFragment() != null) {
                return Cloned.failure("ambiguous repository URL (user info, fragment, or a host that parses two ways)");
            }
        } catch (URISyntaxException e) {
            return Cloned.failure("invalid repository URL");
        }
        // git:// connects once, to this host (the HTTP connections are checked one by one by the factory)
        Optional<String> refused = policy.refusal(uri);
        if (refused.isPresent()) {
            return Cloned.failure(refused.get());
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        try (Git git = Git.cloneRepository()
                .setURI(url)
                .setDirectory(into.toFile())
                .setDepth(1)
                .setCloneAllBranches(false)
                .setNoTags()
                .setTransportConfigCallback(transport -> {
                    if (transport instanceof TransportHttp http) {
                        http.setHttpConnectionFactory(connections);
                    }
                })
                .setTimeout((int) Math.max(1, timeout.toSeconds()))
                .setProgressMonitor(new EmptyProgressMonitor() {
                    @Override
                    public boolean isCancelled() {
                        return System.nanoTime() > deadline || Thread.currentThread().isInterrupted();
                    }
                })
                .call()) {
            if (Thread.currentThread().isInterrupted()) {
                throw new InterruptedException("clone interrupted");
            }
            ObjectId tree = git.getRepository().resolve("HEAD^{tree}");
            return new Cloned(tree == null ? "" : tree.name(), null);
        } catch (InterruptedException e) {
            throw e;
        } catch (Exception e) {
            if (Thread.currentThread().isInterrupted()) {
                throw new InterruptedException("clone interrupted");
            }
            for (Throwable t = e; t != null; t = t.getCause()) {
                String message = String.valueOf(t.getMessage());
                if (message.contains(GuardedConnectionFactory.REFUSED)) {
                    return Cloned.failure(message.substring(message.indexOf(':') + 2));
                }
            }
            // one answer for a closed port, an open one that is not Git, a missing repository, a slow host:
            // a clone must not be a port scanner
            return Cloned.failure("repository not found or not reachable within " + timeout.toSeconds() + " s: "
                    + url);
        }
    }
}
