package org.minifaas.worker;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Set;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.api.errors.InvalidRemoteException;
import org.eclipse.jgit.lib.EmptyProgressMonitor;
import org.eclipse.jgit.lib.ObjectId;

/** Shallow clones of a task's repository (JGit, in the worker: no user code runs here). */
final class GitSource {
    static final Set<String> CLONE_SCHEMES = Set.of("http", "https", "git");

    private final Duration timeout;

    GitSource(Duration timeout) {
        this.timeout = timeout;
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
        try {
            scheme = String.valueOf(URI.create(url).getScheme()).toLowerCase(Locale.ROOT);
        } catch (IllegalArgumentException e) {
            return Cloned.failure("invalid repository URL");
        }
        if (!CLONE_SCHEMES.contains(scheme)) {
            return Cloned.failure("repository URL scheme '" + scheme + "' is not allowed");
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        try (Git git = Git.cloneRepository()
                .setURI(url)
                .setDirectory(into.toFile())
                .setDepth(1)
                .setCloneAllBranches(false)
                .setNoTags()
                .setTimeout((int) Math.max(1, timeout.toSeconds()))
                .setProgressMonitor(new EmptyProgressMonitor() {
                    @Override
                    public boolean isCancelled() {
                        return System.nanoTime() > deadline || Thread.currentThread().isInterrupted();
                    }
                })
                .call()) {
            ObjectId tree = git.getRepository().resolve("HEAD^{tree}");
            return new Cloned(tree == null ? "" : tree.name(), null);
        } catch (Exception e) {
            if (Thread.currentThread().isInterrupted()) {
                throw new InterruptedException("clone interrupted");
            }
            if (System.nanoTime() > deadline) {
                return Cloned.failure("timed out after " + timeout.toSeconds() + " s");
            }
            if (e instanceof InvalidRemoteException) {
                return Cloned.failure("repository not found (or not a Git repository): " + url);
            }
            String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            return Cloned.failure(message.replaceAll("\\s+", " "));
        }
    }
}
