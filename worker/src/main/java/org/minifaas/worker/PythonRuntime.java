package org.minifaas.worker;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.minifaas.worker.sandbox.Cancellation;
import org.minifaas.worker.sandbox.Mount;
import org.minifaas.worker.sandbox.Outcome;
import org.minifaas.worker.sandbox.OutputListener;

/**
 * Python functions: a repository with {@code main.py} in its root, run as {@code python3 -s main.py <parameters>}
 * (no user site, unbuffered output, no bytecode written). When requirements.txt lists packages, {@code pip install
 * --target} installs them first in a sandbox like a clone's (its network and account, the build's limits), from the
 * index PIP_INDEX_URL names (PyPI by default); the packages are kept by the hash of requirements.txt and the Python
 * version ({@link DependencyCache}) and put on the function's PYTHONPATH, read-only.
 */
final class PythonRuntime implements FunctionRuntime {
    static final String NAME = "python";
    private static final String SRC = GoBuilder.SRC;
    private static final String OUT = "/task/out";
    private static final String DEPS = "/task/deps";
    private static final String INSTALL = "/task/install";

    private final Interpreter python;
    private final PackageInstalls installs;

    /**
     * @param installs how installs run; without {@link PackageInstalls#scriptsAllowed} pip takes wheels only, and every
     *                 URL requirements.txt names is checked against the address policy first
     */
    PythonRuntime(Interpreter python, PackageInstalls installs) {
        this.python = python;
        this.installs = installs;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String marker() {
        return "main.py";
    }

    @Override
    public Plan plan(Path src, String treeId) throws IOException {
        Optional<String> link = RepositoryFiles.linkRefused(src, List.of("main.py", "requirements.txt"));
        if (link.isPresent()) {
            return Plan.failed(NAME, link.get());
        }
        if (!Files.isRegularFile(src.resolve("main.py"), LinkOption.NOFOLLOW_LINKS)) {
            return Plan.failed(NAME, "no main.py in the repository root");
        }
        if (!python.installed()) {
            return Plan.failed(NAME, "Python is not installed on this worker (" + python.command() + ")");
        }
        Optional<byte[]> requirements = RepositoryFiles.readWhole(src.resolve("requirements.txt"), 1 << 20);
        if (requirements.isEmpty()) {
            return Plan.failed(NAME, "requirements.txt is larger than 1 MiB: refused");
        }
        if (!listsPackages(new String(requirements.get(), java.nio.charset.StandardCharsets.UTF_8))) {
            return new Plan(NAME, python.label(), null, null);
        }
        if (!installs.scriptsAllowed()) {
            Optional<String> refused = InstallSources.refusal(
                    installs.policy(),
                    "requirements.txt",
                    new String(requirements.get(), java.nio.charset.StandardCharsets.UTF_8));
            if (refused.isPresent()) {
                return Plan.failed(NAME, refused.get());
            }
        }
        // everything the install reads: it runs in a directory holding only requirements.txt
        return new Plan(
                NAME,
                python.label(),
                CacheKeys.of(
                        requirements.get(),
                        NAME,
                        python.label(),
                        "pip --target",
                        installs.scriptsAllowed() ? "any" : "--only-binary=:all:"),
                null);
    }

    /** Whether a requirements.txt has a line other than blanks and comments. */
    static boolean listsPackages(String requirements) {
        return requirements
                .lines()
                .map(l -> l.replaceAll("(^|\\s)#.*", "").strip())
                .anyMatch(l -> !l.isEmpty());
    }

    @Override
    public Prepared prepare(Plan plan, Path taskDir, OutputListener output, Cancellation cancellation)
            throws IOException, InterruptedException {
        Optional<Path> cached = installs.cache().get(plan.artifactKey());
        if (cached.isPresent()) {
            return new Prepared(cached.get(), true, null);
        }
        // a directory with a copy of requirements.txt and nothing else of the repository: what is cached under the key
        // is what that file installs (no local package, no other requirements file, no pip of the repository's own)
        Path inputs = TaskWorkspace.directoryOf(
                taskDir.resolve("install"), installs.step().account());
        Files.write(
                inputs.resolve("requirements.txt"),
                RepositoryFiles.read(taskDir.resolve("src/requirements.txt"), 1 << 20));
        TaskWorkspace.handOver(inputs, installs.step().account());
        Path out = TaskWorkspace.directoryOf(
                taskDir.resolve("out"), installs.step().account());
        // the function's account passes through to the packages when they are not kept
        Files.setPosixFilePermissions(out, PosixFilePermissions.fromString("rwx--x--x"));
        Map<String, String> env = new LinkedHashMap<>();
        env.put("PATH", "/usr/local/bin:/usr/bin:/bin");
        env.put("HOME", "/tmp");
        env.put("TMPDIR", "/tmp");
        env.put("LANG", "C.UTF-8");
        env.put("PIP_NO_CACHE_DIR", "1");
        env.put("PIP_DISABLE_PIP_VERSION_CHECK", "1");
        env.put("PIP_NO_INPUT", "1");
        env.put("PIP_CONFIG_FILE", "/dev/null");
        env.put("PYTHONDONTWRITEBYTECODE", "1");
        Outcome install = installs.step()
                .runWithin(
                        out,
                        pipInstall(),
                        List.of(Mount.readOnly(inputs, INSTALL), Mount.writable(out, OUT)),
                        INSTALL,
                        env,
                        installs.step().network(),
                        output,
                        cancellation);
        if (install.cancelled()) {
            return Prepared.failed(Execution.cancelled(install.stdout(), install.stderr()));
        }
        Optional<String> failed = installs.step().failure("pip install -r requirements.txt", install);
        if (failed.isPresent()) {
            return Prepared.failed(Execution.failed(install.stdout(), install.stderr(), failed.get()));
        }
        Path deps = out.resolve("deps");
        if (!Files.isDirectory(deps, LinkOption.NOFOLLOW_LINKS)) {
            return Prepared.failed(
                    Execution.failed(install.stdout(), install.stderr(), "pip install left no packages"));
        }
        // the install's sandbox has ended: nothing changes the tree while the worker copies it
        return new Prepared(installs.cache().put(plan.artifactKey(), deps).orElse(deps), false, null);
    }

    /** pip in isolated mode (-I: no PYTHON* variables, no user site, not the working directory on its path). */
    private List<String> pipInstall() {
        List<String> argv = new java.util.ArrayList<>(List.of(
                python.command(),
                "-I",
                "-m",
                "pip",
                "install",
                "--no-warn-script-location",
                // an address it cannot reach fails the install in about half a minute, not the build's whole time
                // limit (pip's defaults: 5 retries of 15 s each); and no question to PyPI about pip itself
                "--retries",
                "2",
                "--timeout",
                "10",
                "--disable-pip-version-check",
                "--target",
                OUT + "/deps"));
        if (!installs.scriptsAllowed()) {
            argv.add("--only-binary=:all:"); // the host's network: wheels only, no setup.py runs on it
        }
        argv.addAll(List.of("-r", "requirements.txt"));
        return argv;
    }

    @Override
    public Optional<Path> cached(String artifactKey) {
        return installs.cache().get(artifactKey);
    }

    @Override
    public Launch launch(Path src, Optional<Path> artifact) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("PYTHONUNBUFFERED", "1"); // each line reaches the live log as it is printed
        env.put("PYTHONDONTWRITEBYTECODE", "1");
        env.put("PYTHONNOUSERSITE", "1");
        artifact.ifPresent(a -> env.put("PYTHONPATH", DEPS));
        return new Launch(
                List.of(python.command(), "-s", "main.py"),
                artifact.map(a -> List.of(Mount.readOnly(a, DEPS))).orElse(List.of()),
                env);
    }

    @Override
    public String describe() {
        return "Python: " + (python.installed() ? python.label() + " (" + python.command() + ")" : "none")
                + (installs.scriptsAllowed() ? "" : ", wheels only (no egress network)");
    }
}
