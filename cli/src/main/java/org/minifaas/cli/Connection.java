package org.minifaas.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** Where the server is and who we are, on every command: flags first, then the environment, then defaults. */
final class Connection {
    static final String DEFAULT_URL = "http://localhost:4180";
    static final String COOKIE_NAME = "_oauth2_proxy";

    @Spec(Spec.Target.MIXEE)
    CommandSpec mixee;

    @Option(
            names = "--server",
            paramLabel = "URL",
            description = "The MiniFaaS address (env MINIFAAS_URL; default " + DEFAULT_URL + ", the oauth2-proxy).")
    String server;

    @Option(
            names = "--cookie",
            paramLabel = "VALUE",
            description = "The oauth2-proxy cookie, its value or " + COOKIE_NAME + "=VALUE (env MINIFAAS_COOKIE).")
    String cookie;

    @Option(
            names = "--cookie-file",
            paramLabel = "FILE",
            description = "A file holding the cookie: its value, NAME=VALUE, or a curl cookie jar "
                    + "(env MINIFAAS_COOKIE_FILE).")
    Path cookieFile;

    @Option(
            names = "--user",
            paramLabel = "ID",
            description = "Send X-Forwarded-User: ID, for a local stack without oauth2-proxy (env MINIFAAS_USER).")
    String user;

    @Option(
            names = "--email",
            paramLabel = "ADDRESS",
            description = "Send X-Forwarded-Email: ADDRESS; admins are listed by e-mail (env MINIFAAS_EMAIL).")
    String email;

    @Option(names = "--json", description = "Print the server's raw JSON records instead of text.")
    boolean json;

    private Main main() {
        return (Main) mixee.root().userObject();
    }

    Map<String, String> env() {
        return main().env;
    }

    boolean realProcess() {
        return main().realProcess;
    }

    PrintWriter out() {
        return mixee.commandLine().getOut();
    }

    PrintWriter err() {
        return mixee.commandLine().getErr();
    }

    private String pick(String flag, String envName) {
        if (flag != null) {
            return flag;
        }
        String v = env().get(envName);
        return v == null || v.isBlank() ? null : v;
    }

    Api api() throws IOException {
        String base = pick(server, "MINIFAAS_URL");
        if (base == null) {
            base = DEFAULT_URL;
        }
        if (!base.startsWith("http://") && !base.startsWith("https://")) {
            throw new ApiException("--server must start with http:// or https://: " + base);
        }
        List<String> headers = new ArrayList<>();
        String c = pick(cookie, "MINIFAAS_COOKIE");
        String file = cookieFile != null ? cookieFile.toString() : pick(null, "MINIFAAS_COOKIE_FILE");
        if (c == null && file != null) {
            try {
                c = cookieFromFile(Files.readString(Path.of(file)));
            } catch (IOException e) {
                throw new ApiException("cannot read the cookie file " + file + ": " + e.getMessage());
            }
        }
        if (c != null) {
            headers.add("Cookie");
            headers.add(c.contains("=") ? c.strip() : COOKIE_NAME + "=" + c.strip());
        }
        String u = pick(user, "MINIFAAS_USER");
        if (u != null) {
            headers.add("X-Forwarded-User");
            headers.add(u);
        }
        String e = pick(email, "MINIFAAS_EMAIL");
        if (e != null) {
            headers.add("X-Forwarded-Email");
            headers.add(e);
        }
        return new Api(base, headers);
    }

    /** A file's cookie: a curl/Netscape jar's {@code _oauth2_proxy} line, or else its first non-blank line. */
    static String cookieFromFile(String text) {
        String first = null;
        for (String line : text.split("\\R")) {
            String l = line.strip();
            if (l.isEmpty() || (l.startsWith("#") && !l.startsWith("#HttpOnly_"))) {
                continue;
            }
            String[] jar = l.split("\t");
            if (jar.length == 7 && jar[5].equals(COOKIE_NAME)) {
                return COOKIE_NAME + "=" + jar[6];
            }
            if (first == null && jar.length != 7) {
                first = l;
            }
        }
        if (first == null) {
            throw new ApiException("no " + COOKIE_NAME + " cookie in the cookie file");
        }
        return first;
    }
}
