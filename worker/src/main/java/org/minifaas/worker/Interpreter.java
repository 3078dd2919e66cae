package org.minifaas.worker;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An interpreter functions run with (python3, node): its command, as the sandbox sees it (under /usr), and its
 * version as the record shows it ({@code python3.11.2}, {@code node20.20.2}); not installed when the command is
 * missing or does not say its version.
 */
record Interpreter(String command, String label) {
    private static final Pattern VERSION = Pattern.compile("(\\d+\\.\\d+\\.\\d+)");

    boolean installed() {
        return label != null;
    }

    /** Asks {@code command --version} (the system's own program, outside any sandbox); {@code name} prefixes it. */
    static Interpreter probe(String command, String name) {
        if (!Files.isExecutable(Path.of(command))) {
            return new Interpreter(command, null);
        }
        try {
            Process p = new ProcessBuilder(command, "--version")
                    .redirectErrorStream(true)
                    .start();
            String out = new String(p.getInputStream().readNBytes(4096), StandardCharsets.UTF_8);
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new Interpreter(command, null);
            }
            Matcher m = VERSION.matcher(out);
            return p.exitValue() == 0 && m.find()
                    ? new Interpreter(command, name + m.group(1))
                    : new Interpreter(command, null);
        } catch (IOException e) {
            return new Interpreter(command, null);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Interpreter(command, null);
        }
    }
}
