package org.minifaas.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.minifaas.common.model.Task;
import org.minifaas.common.model.TaskRecord;
import org.minifaas.common.model.TaskStatus;

/**
 * Runtimes with real toolchains: every Go installed here picked by go.mod, Python and Node.js functions, npm
 * dependencies from the real npm registry installed in the build sandbox and cached by lockfile, and a hostile
 * install script.
 */
class RuntimesIT {
    static final Duration LIMIT = Duration.ofSeconds(10);
    static final Duration WAIT = Duration.ofSeconds(180);
    static RunningWorker stack;

    /** Parameters that a shell or a careless runtime would change. */
    static final List<String> AWKWARD = List.of(
            "plain",
            "two words",
            "",
            "$(touch /tmp/minifaas-runtimes-marker)",
            "'quoted'",
            "ünïcödé ✓",
            "-h",
            "--version",
            "a\tb");

    @BeforeAll
    static void start() throws Exception {
        stack = RunningWorker.start("runtimes-test", LIMIT, 2);
    }

    @AfterAll
    static void stop() throws Exception {
        stack.close();
    }

    @AfterEach
    void noTaskDirectoryIsLeft() throws Exception {
        stack.assertNoTaskDirectoryLeft();
    }

    static final String PRINT_VERSION = """
            package main

            import (
            \t"fmt"
            \t"runtime"
            )

            func main() {
            \tfmt.Println(runtime.Version())
            }
            """;

    static final String PYTHON_ECHO = """
            import sys
            for i, a in enumerate(sys.argv[1:]):
                print(f"{i}:{a}")
            """;

    static final String NODE_ECHO = """
            process.argv.slice(2).forEach((a, i) => console.log(`${i}:${a}`));
            """;

    private Execution run(String runtime, Map<String, String> files, String... parameters) throws Exception {
        String url = stack.git.createRepo("rt-" + UUID.randomUUID(), files);
        return runUrl(runtime, url, parameters);
    }

    private Execution runUrl(String runtime, String url, String... parameters) throws Exception {
        Task task = new Task(
                UUID.randomUUID(), Fixture.USER, url, List.of(parameters), null, 0, null, TaskRecord.now(), runtime);
        return stack.executor.execute(task);
    }

    private static String echoed(List<String> parameters) {
        StringBuilder expected = new StringBuilder();
        for (int i = 0; i < parameters.size(); i++) {
            expected.append(i).append(':').append(parameters.get(i)).append('\n');
        }
        return expected.toString();
    }

    @Test
    void eachInstalledGoIsPickedByTheGoModThatAsksForIt() throws Exception {
        List<GoToolchains.Toolchain> installed = GoToolchains.discover("", "go").installed();
        assertFalse(installed.isEmpty(), "no Go toolchain found");
        for (GoToolchains.Toolchain toolchain : installed) {
            String goLine =
                    toolchain.version().major() + "." + toolchain.version().minor();
            Execution e = run(
                    null, Map.of("go.mod", "module example.com/v\n\ngo " + goLine + "\n", "main.go", PRINT_VERSION));
            assertEquals(TaskStatus.FINISHED, e.status(), Fixture.text(e, "error.txt"));
            assertEquals(toolchain.label() + "\n", Fixture.text(e, "stdout.txt"), "go " + goLine);
            assertEquals(toolchain.label(), e.toolchain());
            assertEquals("go", e.runtime());
        }
    }

    @Test
    void aToolchainLineAsksForAtLeastThatRelease() throws Exception {
        GoToolchains.Toolchain newest = GoToolchains.discover("", "go").newest().orElseThrow();
        assumeTrue(newest.version().minor() >= 21, "the toolchain line needs Go 1.21 or later installed");
        String goMod = "module example.com/t\n\ngo 1.21\n\ntoolchain go"
                + newest.version().major() + "." + newest.version().minor() + ".0\n";
        Execution e = run(null, Map.of("go.mod", goMod, "main.go", PRINT_VERSION));
        assertEquals(TaskStatus.FINISHED, e.status(), Fixture.text(e, "error.txt"));
        assertEquals(newest.label() + "\n", Fixture.text(e, "stdout.txt"));
    }

    @Test
    void aGoVersionNotInstalledFailsNamingWhatWasAskedAndWhatIsInstalled() throws Exception {
        Execution e = run(null, Map.of("go.mod", "module example.com/n\n\ngo 1.99\n", "main.go", PRINT_VERSION));
        assertEquals(TaskStatus.FINISHED_WITH_ERRORS, e.status());
        String error = Fixture.text(e, "error.txt");
        assertTrue(error.contains("Go 1.99"), error);
        for (GoToolchains.Toolchain t : GoToolchains.discover("", "go").installed()) {
            assertTrue(error.contains(t.label()), error);
        }
        assertEquals("", Fixture.text(e, "stdout.txt"));
    }

    @Test
    void theToolchainIsOnErrorTxtsSecondLine() throws Exception {
        Map<String, String> fails = Map.of(
                "go.mod", Functions.GO_MOD, "main.go", "package main\n\nimport \"os\"\n\nfunc main() { os.Exit(4) }\n");
        Execution e = run(null, fails);
        assertEquals(TaskStatus.FINISHED_WITH_ERRORS, e.status());
        assertEquals("exit code 4\nruntime: " + e.toolchain() + "\n", Fixture.text(e, "error.txt"));
        assertTrue(e.toolchain().startsWith("go1."), e.toolchain());
    }

    @Test
    void aPythonFunctionGetsItsParametersExactly() throws Exception {
        Execution e = run(null, Map.of("main.py", PYTHON_ECHO), AWKWARD.toArray(String[]::new));
        assertEquals(TaskStatus.FINISHED, e.status(), Fixture.text(e, "error.txt"));
        assertEquals(echoed(AWKWARD), Fixture.text(e, "stdout.txt"));
        assertEquals("python", e.runtime());
        assertTrue(e.toolchain().startsWith("python3."), e.toolchain());
        assertFalse(Files.exists(Path.of("/tmp/minifaas-runtimes-marker")), "a parameter was run by a shell");
    }

    @Test
    void aNodeFunctionRunsItsMainWithItsParametersExactly() throws Exception {
        Map<String, String> files = Map.of(
                "package.json",
                "{\"name\": \"echo\", \"version\": \"1.0.0\", \"main\": \"lib/app.js\"}\n",
                "lib/app.js",
                NODE_ECHO);
        Execution e = run(null, files, AWKWARD.toArray(String[]::new));
        assertEquals(TaskStatus.FINISHED, e.status(), Fixture.text(e, "error.txt"));
        assertEquals(echoed(AWKWARD), Fixture.text(e, "stdout.txt"));
        assertEquals("node", e.runtime());
        assertTrue(e.toolchain().startsWith("node"), e.toolchain());
        assertNull(e.binaryCached(), "nothing to install");
    }

    @Test
    void aNodeMainOutsideTheRepositoryIsRefused() throws Exception {
        Execution e = run(null, Map.of("package.json", "{\"main\": \"../../../../etc/passwd\"}"));
        assertEquals(TaskStatus.FINISHED_WITH_ERRORS, e.status());
        assertTrue(Fixture.text(e, "error.txt").contains("outside the repository"), Fixture.text(e, "error.txt"));
    }

    @Test
    void theRuntimeFieldChoosesAmongFunctionsOfSeveralLanguages() throws Exception {
        Map<String, String> files = new HashMap<>(Functions.ECHO);
        files.put("main.py", "print('python')\n");
        files.put("package.json", "{}");
        files.put("index.js", "console.log('node')\n");
        String url = stack.git.createRepo("multi-" + UUID.randomUUID(), files);
        assertEquals("0:x\n", Fixture.text(runUrl(null, url, "x"), "stdout.txt"), "Go is recognised first");
        assertEquals("python\n", Fixture.text(runUrl("python", url, "x"), "stdout.txt"));
        assertEquals("node\n", Fixture.text(runUrl("node", url, "x"), "stdout.txt"));
        // a known commit is kept per runtime asked for: the Go run before does not answer for python
        assertEquals("python\n", Fixture.text(runUrl("python", url, "x"), "stdout.txt"));
        assertEquals("0:x\n", Fixture.text(runUrl("go", url, "x"), "stdout.txt"));
    }

    @Test
    void aRepositoryOfNoKnownLanguageFailsWithAReason() throws Exception {
        Execution e = run(null, Map.of("README.md", "nothing to run\n"));
        assertEquals(TaskStatus.FINISHED_WITH_ERRORS, e.status());
        assertTrue(Fixture.text(e, "error.txt").startsWith("no function found"), Fixture.text(e, "error.txt"));
        Execution asked = run("python", Map.of("main.go", "package main\nfunc main(){}\n"));
        assertEquals("no main.py in the repository root\n", Fixture.text(asked, "error.txt"));
    }

    /** package-lock.json for {@code packageJson}, made by the real npm from the real registry. */
    static String lockfileFor(String packageJson) throws Exception {
        Path dir = Files.createTempDirectory("minifaas-lock-");
        try {
            Files.writeString(dir.resolve("package.json"), packageJson);
            Process npm = new ProcessBuilder(
                            "npm", "install", "--package-lock-only", "--no-audit", "--no-fund", "--ignore-scripts")
                    .directory(dir.toFile())
                    .redirectErrorStream(true)
                    .start();
            String out = new String(npm.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            assertEquals(0, npm.waitFor(), out);
            return Files.readString(dir.resolve("package-lock.json"));
        } finally {
            org.minifaas.common.testing.TestFiles.deleteTree(dir);
        }
    }

    /**
     * A real npm dependency (the registry is reachable here), installed by npm ci in the sandbox, then taken from the
     * cache by the next repository with the same lockfile, and by the next task of the same commit (no clone).
     */
    @Test
    void npmDependenciesAreInstalledInTheSandboxAndCachedByLockfile() throws Exception {
        String pkg = "{\"name\": \"dep\", \"version\": \"1.0.0\", \"dependencies\": {\"ms\": \"2.1.3\"}}\n";
        String lock = lockfileFor(pkg);
        String main = "const ms = require('ms');\nconsole.log(ms(90000), process.argv[2]);\n";
        String url = stack.git.createRepo(
                "npm-" + UUID.randomUUID(), Map.of("package.json", pkg, "package-lock.json", lock, "index.js", main));
        Execution first = runUrl(null, url, "one");
        assertEquals(
                TaskStatus.FINISHED,
                first.status(),
                Fixture.text(first, "error.txt")
                        + Fixture.text(first, "stderr.txt")
                        + Fixture.text(first, "stdout.txt"));
        assertEquals("2m one\n", Fixture.text(first, "stdout.txt"));
        assertEquals(Boolean.FALSE, first.binaryCached(), "installed");

        // another repository with the same lockfile: no install
        Execution second = run(
                null,
                Map.of("package.json", pkg, "package-lock.json", lock, "index.js", main, "README.md", "other\n"),
                "two");
        assertEquals(TaskStatus.FINISHED, second.status(), Fixture.text(second, "error.txt"));
        assertEquals("2m two\n", Fixture.text(second, "stdout.txt"));
        assertEquals(Boolean.TRUE, second.binaryCached(), "taken from the dependency cache");
        assertEquals(Boolean.FALSE, second.cloneSkipped());

        // the same commit again: no clone, the kept source with the cached node_modules over its own
        Execution third = runUrl(null, url, "three");
        assertEquals(
                TaskStatus.FINISHED,
                third.status(),
                Fixture.text(third, "error.txt") + Fixture.text(third, "stderr.txt"));
        assertEquals("2m three\n", Fixture.text(third, "stdout.txt"));
        assertEquals(Boolean.TRUE, third.cloneSkipped());
        assertEquals("node", third.runtime());

        // a repository's .npmrc does not steer a shared install (it would fill the cache with its registry's packages)
        try (AnsweringServer registry = AnsweringServer.start(java.net.InetAddress.getLoopbackAddress(), "{}")) {
            String other = pkg.replace("\"dep\"", "\"dep-npmrc\"");
            Execution steered = run(
                    null,
                    Map.of(
                            "package.json",
                            other,
                            "package-lock.json",
                            lock.replace("\"dep\"", "\"dep-npmrc\""),
                            ".npmrc",
                            "registry=http://127.0.0.1:" + registry.port() + "/\n",
                            "index.js",
                            main),
                    "npmrc");
            assertEquals(TaskStatus.FINISHED, steered.status(), Fixture.text(steered, "error.txt"));
            assertEquals("2m npmrc\n", Fixture.text(steered, "stdout.txt"));
            assertEquals(Boolean.FALSE, steered.binaryCached(), "another package.json: installed");
            assertEquals(0, registry.accepted(), "the repository's .npmrc was used");
        }

        // without a lockfile, npm install, kept by package.json's dependencies
        Execution unlocked = run(null, Map.of("package.json", pkg, "index.js", main), "four");
        assertEquals(TaskStatus.FINISHED, unlocked.status(), Fixture.text(unlocked, "error.txt"));
        assertEquals("2m four\n", Fixture.text(unlocked, "stdout.txt"));
    }

    /** node_modules committed to the repository, nothing to install: the same on a known commit's run. */
    @Test
    void aCommittedNodeModulesIsTheFunctionsOwn() throws Exception {
        String url = stack.git.createRepo(
                "vendored-" + UUID.randomUUID(),
                Map.of(
                        "package.json", "{\"name\": \"vendored\"}",
                        "index.js", "console.log(require('greet')('x'));\n",
                        "node_modules/greet/index.js", "module.exports = n => 'hello ' + n;\n"));
        Execution first = runUrl(null, url);
        assertEquals("hello x\n", Fixture.text(first, "stdout.txt"), Fixture.text(first, "error.txt"));
        Execution again = runUrl(null, url);
        assertEquals(Boolean.TRUE, again.cloneSkipped());
        assertEquals("hello x\n", Fixture.text(again, "stdout.txt"), Fixture.text(again, "stderr.txt"));
    }

    /** The same tree with another toolchain is another program: the cache key has the toolchain. */
    @Test
    void theBinaryCacheKeepsOneProgramPerToolchain() throws Exception {
        List<GoToolchains.Toolchain> installed = GoToolchains.discover("", "go").installed();
        assumeTrue(installed.size() >= 2, "needs two Go toolchains");
        GoToolchains.Toolchain oldest = installed.get(0);
        GoToolchains.Toolchain newest = installed.get(installed.size() - 1);
        String url = stack.git.createRepo(
                "two-go-" + UUID.randomUUID(),
                Map.of("go.mod", "module example.com/two\n\ngo 1.19\n", "main.go", PRINT_VERSION));
        TaskExecutor first = executorWith(oldest);
        Execution withOldest = first.execute(task(url));
        first.awaitCleanup();
        assertEquals(
                oldest.label() + "\n", Fixture.text(withOldest, "stdout.txt"), Fixture.text(withOldest, "error.txt"));
        TaskExecutor second = executorWith(newest);
        Execution withNewest = second.execute(task(url));
        second.awaitCleanup();
        assertEquals(
                newest.label() + "\n", Fixture.text(withNewest, "stdout.txt"), Fixture.text(withNewest, "error.txt"));
        assertEquals(Boolean.FALSE, withNewest.binaryCached(), "built again with the other toolchain");
        assertEquals(Boolean.FALSE, withNewest.cloneSkipped(), "a kept commit is kept per toolchain set");
    }

    /** An executor on the test's work directory with only {@code toolchain} installed. */
    private static TaskExecutor executorWith(GoToolchains.Toolchain toolchain) throws Exception {
        return Fixture.executor(Fixture.config(
                stack.server.settings(),
                stack.workDir,
                LIMIT,
                Map.of("GO_TOOLCHAINS", toolchain.goRoot().toString(), "WORKER_CONCURRENCY", "1")));
    }

    private static Task task(String url) {
        return new Task(UUID.randomUUID(), Fixture.USER, url, List.of());
    }

    /** A wheel of one pure-Python module, built here: a package index needs nothing more. */
    static byte[] wheel() throws Exception {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        try (java.util.zip.ZipOutputStream zip = new java.util.zip.ZipOutputStream(bytes)) {
            Map<String, String> files = new java.util.LinkedHashMap<>();
            files.put("minifaas_greet/__init__.py", "def greet(name):\n    return 'hello ' + name\n");
            files.put(
                    "minifaas_greet-1.0.dist-info/METADATA",
                    "Metadata-Version: 2.1\nName: minifaas-greet\nVersion: 1.0\n");
            files.put(
                    "minifaas_greet-1.0.dist-info/WHEEL",
                    "Wheel-Version: 1.0\nGenerator: minifaas-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n");
            files.put(
                    "minifaas_greet-1.0.dist-info/RECORD",
                    "minifaas_greet/__init__.py,,\nminifaas_greet-1.0.dist-info/METADATA,,\n"
                            + "minifaas_greet-1.0.dist-info/WHEEL,,\nminifaas_greet-1.0.dist-info/RECORD,,\n");
            for (Map.Entry<String, String> f : files.entrySet()) {
                zip.putNextEntry(new java.util.zip.ZipEntry(f.getKey()));
                zip.write(f.getValue().getBytes(java.nio.charset.StandardCharsets.UTF_8));
                zip.closeEntry();
            }
        }
        return bytes.toByteArray();
    }

    /**
     * requirements.txt installed by pip in the sandbox (from a wheel served on loopback: PyPI is not reachable from
     * these machines), put on the function's path, and kept: the second task of the same requirements downloads nothing.
     */
    @Test
    void pythonRequirementsAreInstalledOnceAndKept() throws Exception {
        byte[] wheel = wheel();
        java.util.concurrent.atomic.AtomicInteger downloads = new java.util.concurrent.atomic.AtomicInteger();
        com.sun.net.httpserver.HttpServer server =
                com.sun.net.httpserver.HttpServer.create(new java.net.InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", exchange -> {
            downloads.incrementAndGet();
            exchange.sendResponseHeaders(200, wheel.length);
            exchange.getResponseBody().write(wheel);
            exchange.close();
        });
        server.start();
        try {
            String requirements = "# one package\nminifaas-greet @ http://127.0.0.1:"
                    + server.getAddress().getPort() + "/minifaas_greet-1.0-py3-none-any.whl\n";
            String main = "import sys\nfrom minifaas_greet import greet\nprint(greet(sys.argv[1]))\n";
            // the repository's own "pip" package (first on the path of `python -m pip` run in it) must not be the pip
            // that installs: it would put whatever it likes into the kept packages
            Execution first = run(
                    null,
                    Map.of(
                            "main.py",
                            main,
                            "requirements.txt",
                            requirements,
                            "pip/__init__.py",
                            "",
                            "pip/__main__.py",
                            "print('trojan pip')\n"),
                    "one");
            assertEquals(
                    TaskStatus.FINISHED,
                    first.status(),
                    Fixture.text(first, "error.txt") + Fixture.text(first, "stderr.txt"));
            assertEquals("hello one\n", Fixture.text(first, "stdout.txt"));
            assertEquals(Boolean.FALSE, first.binaryCached());
            assertEquals(1, downloads.get());

            Execution second =
                    run(null, Map.of("main.py", main, "requirements.txt", requirements, "README.md", "x\n"), "two");
            assertEquals(TaskStatus.FINISHED, second.status(), Fixture.text(second, "error.txt"));
            assertEquals("hello two\n", Fixture.text(second, "stdout.txt"));
            assertEquals(Boolean.TRUE, second.binaryCached());
            assertEquals(1, downloads.get(), "the kept packages were used");
        } finally {
            server.stop(0);
        }
    }

    /**
     * An install script that tries to write outside its own directory: into the shared caches, the worker's
     * directories, other tasks' directories and the host. None of it lands; the function still runs.
     */
    @Test
    void aHostilePostinstallScriptIsContained() throws Exception {
        Path workDir = stack.workDir;
        Path hostMarker = Path.of("/tmp/minifaas-postinstall-" + UUID.randomUUID());
        List<String> targets = new ArrayList<>(List.of(
                hostMarker.toString(),
                workDir.resolve("dependencies/evil").toString(),
                workDir.resolve("binaries/evil").toString(),
                workDir.resolve("commits/evil").toString(),
                workDir.resolve("tasks/evil").toString(),
                Fixture.SHARED_CACHE.resolve("go-build/evil").toString(),
                Fixture.SHARED_CACHE.resolve("gomod/evil").toString(),
                "/usr/lib/node_modules/evil",
                "/root/evil",
                "/etc/evil"));
        StringBuilder js = new StringBuilder("const fs = require('fs');\nconst targets = [");
        for (String t : targets) {
            js.append('"').append(t).append("\",");
        }
        js.append("""
                ];
                const report = [];
                for (const t of targets) {
                  try { fs.mkdirSync(require('path').dirname(t), {recursive: true}); } catch (e) {}
                  try { fs.writeFileSync(t, 'pwned'); report.push('WROTE ' + t); }
                  catch (e) { report.push('refused ' + t); }
                }
                fs.writeFileSync('installed-by-postinstall.txt', report.join('\\n') + '\\n');
                """);
        String pkg = "{\"name\": \"evil\", \"version\": \"1.0.0\", \"dependencies\": {\"ms\": \"2.1.3\"},"
                + " \"scripts\": {\"postinstall\": \"node evil.js\"}}\n";
        String main = "process.stdout.write(require('fs').readFileSync('installed-by-postinstall.txt', 'utf8'));\n";
        Execution e = run(null, Map.of("package.json", pkg, "evil.js", js.toString(), "index.js", main));
        String stderr = Fixture.text(e, "stderr.txt");
        assertEquals(TaskStatus.FINISHED, e.status(), Fixture.text(e, "error.txt") + stderr);
        String report = Fixture.text(e, "stdout.txt");
        for (String t : targets) {
            // under /tmp it writes into its sandbox's own /tmp, which ends with it; elsewhere it is refused
            String expected = (t.startsWith("/tmp/") ? "" : "refused ") + t + "\n";
            assertTrue(report.contains(expected), "the script ran and tried " + t + ":\n" + report + stderr);
        }
        for (String t : targets) {
            assertFalse(Files.exists(Path.of(t)), t + " was written by an install script");
        }
    }
}
