package org.minifaas.systemtests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each service's fat jar, started as `make run` and the images start it (its JVM options file), logs through the
 * code-made logback set-up: the documented line format, LOG_LEVEL obeyed, and none of logback's XML machinery loaded.
 * A bad METRICS_PORT makes each stop at once with its configuration error.
 */
class ServiceLoggingSystemIT {
    static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    static final List<String> SERVICES = List.of("frontend", "worker", "observer", "injector");
    static final Pattern LINE = Pattern.compile(
            "\\d\\d:\\d\\d:\\d\\d\\.\\d{3} ERROR \\[main\\] o\\.m\\.c\\.config\\.Env - (\\w+) not started: .*METRICS_PORT.*");

    record Run(int code, String out, String classes) {}

    static Run start(String service, Map<String, String> env, Path dir) throws Exception {
        Path jar = ROOT.resolve(service).resolve("target").resolve(service + ".jar");
        assertTrue(Files.isRegularFile(jar), jar + " is built by the reactor before the system tests");
        Path classes = dir.resolve(service + "-classes.txt");
        List<String> argv = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "@" + ROOT.resolve("docker/jvm/" + service + ".options"),
                "-Xlog:class+load=info:file=" + classes,
                "-jar",
                jar.toString()));
        ProcessBuilder pb = new ProcessBuilder(argv).redirectErrorStream(true);
        pb.environment().keySet().removeIf(k -> !k.equals("PATH") && !k.equals("HOME"));
        pb.environment().put("METRICS_PORT", "not-a-port");
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), service + " did not stop: " + out);
        return new Run(p.exitValue(), out, Files.readString(classes));
    }

    @Test
    void everyServiceLogsItsConfigurationErrorInTheDocumentedFormatWithoutLogbacksXmlMachinery(@TempDir Path dir)
            throws Exception {
        for (String service : SERVICES) {
            Run run = start(service, Map.of(), dir);
            assertEquals(2, run.code(), service + ": " + run.out());
            assertTrue(
                    run.out().lines().anyMatch(l -> LINE.matcher(l).matches() && l.contains(service + " not started")),
                    service + " did not log its error as documented: " + run.out());
            assertTrue(run.classes().contains("org.minifaas.common.ops.LogConfigurator"), service);
            assertFalse(run.classes().contains("ch.qos.logback.classic.joran."), service + " loaded logback's Joran");
            assertFalse(run.classes().contains(".xerces."), service + " loaded the XML parser");
        }
    }

    @Test
    void logLevelOffSilencesAServiceAndALogbackFileStillWins(@TempDir Path dir) throws Exception {
        Run off = start("injector", Map.of("LOG_LEVEL", "off"), dir);
        assertEquals(2, off.code());
        assertEquals("", off.out().strip(), "LOG_LEVEL=off still logged");

        // an operator's own logback file, given as the JVM option logback documents
        Path xml = dir.resolve("logback.xml");
        Files.writeString(xml, """
                <configuration>
                  <appender name="OUT" class="ch.qos.logback.core.ConsoleAppender">
                    <encoder><pattern>custom %level %msg%n</pattern></encoder>
                  </appender>
                  <root level="INFO"><appender-ref ref="OUT"/></root>
                </configuration>
                """);
        Run custom = start("injector", Map.of("JAVA_TOOL_OPTIONS", "-Dlogback.configurationFile=" + xml), dir);
        assertEquals(2, custom.code());
        assertTrue(custom.out().contains("custom ERROR injector not started"), custom.out());
    }
}
