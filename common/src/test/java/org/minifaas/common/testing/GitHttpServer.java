package org.minifaas.common.testing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.minifaas.common.ops.JdkHttpServer;

/**
 * Real Git repositories served over smart HTTP on loopback: a small CGI bridge to
 * {@code git http-backend}, the same program a Git hosting server runs.
 */
public final class GitHttpServer implements AutoCloseable {
    private final HttpServer server;
    private final Path root;
    /** Ref advertisements asked for (GET .../info/refs), by repository name. */
    private final Map<String, AtomicInteger> refQuestions = new ConcurrentHashMap<>();

    private GitHttpServer(HttpServer server, Path root) {
        this.server = server;
        this.root = root;
    }

    public static GitHttpServer start() throws IOException {
        Path root = Files.createTempDirectory("minifaas-git-");
        HttpServer server = JdkHttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        GitHttpServer git = new GitHttpServer(server, root);
        server.createContext("/git/", git::handle);
        server.setExecutor(Executors.newFixedThreadPool(4));
        server.start();
        return git;
    }

    private static final String SYMLINK = "\0symlink:";

    /** A file content for {@link #createRepo} that commits a symbolic link to {@code target} instead. */
    public static String symlink(String target) {
        return SYMLINK + target;
    }

    /** Creates a repository with the given files committed on branch main; returns its clone URL. */
    public String createRepo(String name, Map<String, String> files) throws IOException, InterruptedException {
        Path dir = root.resolve(name);
        Files.createDirectories(dir);
        for (Map.Entry<String, String> f : files.entrySet()) {
            Path p = dir.resolve(f.getKey());
            Files.createDirectories(p.getParent());
            if (f.getValue().startsWith(SYMLINK)) {
                Files.createSymbolicLink(p, Path.of(f.getValue().substring(SYMLINK.length())));
            } else {
                Files.writeString(p, f.getValue());
            }
        }
        git(dir, "init", "-q", "-b", "main");
        git(dir, "add", "-A");
        git(dir, "-c", "user.name=test", "-c", "user.email=test@example.com", "commit", "-q", "-m", "function");
        return url(name);
    }

    /** Commits {@code files} (added or replaced) on top of repository {@code name}; returns the new commit id. */
    public String commit(String name, Map<String, String> files, String message)
            throws IOException, InterruptedException {
        Path dir = root.resolve(name);
        for (Map.Entry<String, String> f : files.entrySet()) {
            Path p = dir.resolve(f.getKey());
            Files.createDirectories(p.getParent());
            Files.writeString(p, f.getValue());
        }
        git(dir, "add", "-A");
        git(dir, "-c", "user.name=test", "-c", "user.email=test@example.com", "commit", "-q", "-m", message);
        return head(name);
    }

    /** Tags the current commit of repository {@code name}. */
    public void tag(String name, String tag) throws IOException, InterruptedException {
        git(root.resolve(name), "tag", tag);
    }

    /** The commit id of the current branch's head of repository {@code name}. */
    public String head(String name) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("git", "rev-parse", "HEAD")
                .directory(root.resolve(name).toFile())
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        if (p.waitFor() != 0) {
            throw new IOException("git rev-parse HEAD failed in " + name);
        }
        return out;
    }

    public String url(String name) {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/git/" + name;
    }

    private static void git(Path dir, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add("git");
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd)
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IOException("git " + String.join(" ", args) + " failed: " + out);
        }
    }

    /** How many times the refs of repository {@code name} were asked for (what `git ls-remote` asks). */
    public int refQuestions(String name) {
        AtomicInteger n = refQuestions.get(name);
        return n == null ? 0 : n.get();
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            String path = ex.getRequestURI().getRawPath().substring("/git".length());
            if (path.endsWith("/info/refs")) {
                refQuestions
                        .computeIfAbsent(
                                path.substring(1, path.length() - "/info/refs".length()), k -> new AtomicInteger())
                        .incrementAndGet();
            }
            ProcessBuilder pb = new ProcessBuilder("git", "http-backend");
            Map<String, String> env = pb.environment();
            env.put("GIT_PROJECT_ROOT", root.toString());
            env.put("GIT_HTTP_EXPORT_ALL", "1");
            env.put("PATH_INFO", path);
            env.put("REQUEST_METHOD", ex.getRequestMethod());
            env.put(
                    "QUERY_STRING",
                    ex.getRequestURI().getRawQuery() == null
                            ? ""
                            : ex.getRequestURI().getRawQuery());
            env.put("REMOTE_ADDR", "127.0.0.1");
            String type = ex.getRequestHeaders().getFirst("Content-Type");
            if (type != null) {
                env.put("CONTENT_TYPE", type);
            }
            String encoding = ex.getRequestHeaders().getFirst("Content-Encoding");
            if (encoding != null) {
                env.put("HTTP_CONTENT_ENCODING", encoding);
            }
            String protocol = ex.getRequestHeaders().getFirst("Git-Protocol");
            if (protocol != null) {
                env.put("GIT_PROTOCOL", protocol);
            }
            byte[] body = ex.getRequestBody().readAllBytes();
            env.put("CONTENT_LENGTH", Integer.toString(body.length));
            Process p = pb.redirectError(ProcessBuilder.Redirect.DISCARD).start();
            try (OutputStream in = p.getOutputStream()) {
                in.write(body);
            }
            byte[] out;
            try (InputStream stdout = p.getInputStream()) {
                out = stdout.readAllBytes();
            }
            p.waitFor();
            int split = indexOfHeaderEnd(out);
            String head = new String(out, 0, Math.max(split, 0), StandardCharsets.ISO_8859_1);
            int status = 200;
            for (String line : head.split("\r?\n")) {
                int colon = line.indexOf(':');
                if (colon <= 0) {
                    continue;
                }
                String key = line.substring(0, colon).trim();
                String value = line.substring(colon + 1).trim();
                if (key.equalsIgnoreCase("Status")) {
                    status = Integer.parseInt(value.split(" ")[0]);
                } else {
                    ex.getResponseHeaders().add(key, value);
                }
            }
            int bodyStart = split < 0 ? 0 : split + (out[split] == '\r' ? 4 : 2);
            ByteArrayOutputStream payload = new ByteArrayOutputStream();
            payload.write(out, bodyStart, out.length - bodyStart);
            ex.sendResponseHeaders(status, payload.size() == 0 ? -1 : payload.size());
            if (payload.size() > 0) {
                ex.getResponseBody().write(payload.toByteArray());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static int indexOfHeaderEnd(byte[] b) {
        for (int i = 0; i + 1 < b.length; i++) {
            if (b[i] == '\n' && b[i + 1] == '\n') {
                return i;
            }
            if (i + 3 < b.length && b[i] == '\r' && b[i + 1] == '\n' && b[i + 2] == '\r' && b[i + 3] == '\n') {
                return i;
            }
        }
        return -1;
    }

    @Override
    public void close() throws IOException {
        server.stop(0);
        TestFiles.deleteTree(root);
    }
}
