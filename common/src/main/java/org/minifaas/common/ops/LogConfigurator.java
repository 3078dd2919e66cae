package org.minifaas.common.ops;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.spi.ContextAwareBase;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;

/**
 * The services' logging, set up in code (found by logback through {@code META-INF/services}): one line per event on
 * standard output, the root level from {@code LOG_LEVEL} (default INFO; a {@code -DLOG_LEVEL} system property wins). Logback's XML configuration would load about
 * 600 classes more per JVM (its Joran framework and the JDK's XML parser), ~3 MiB of class metadata each. A
 * {@code logback-test.xml} on the class path or a {@code -Dlogback.configurationFile} still wins.
 */
public final class LogConfigurator extends ContextAwareBase implements Configurator {
    /** The one environment variable read here. */
    public static final String LEVEL_VARIABLE = "LOG_LEVEL";

    static final String PATTERN = "%d{HH:mm:ss.SSS} %-5level [%thread] %logger{20} - %msg%n";
    /**
     * Libraries' loggers at a level of their own whatever LOG_LEVEL says: Jetty and JGit are too talkative at INFO;
     * Javalin's start-up lines stay, and its DEBUG output stays off.
     */
    static final Map<String, Level> LIBRARIES =
            Map.of("org.eclipse.jetty", Level.WARN, "org.eclipse.jgit", Level.WARN, "io.javalin", Level.INFO);

    @Override
    public ExecutionStatus configure(LoggerContext context) {
        if (System.getProperty("logback.configurationFile") != null
                || getClass().getClassLoader().getResource("logback-test.xml") != null) {
            return ExecutionStatus.INVOKE_NEXT_IF_ANY;
        }
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern(PATTERN);
        encoder.start();
        ConsoleAppender<ILoggingEvent> console = new ConsoleAppender<>();
        console.setContext(context);
        console.setName("STDOUT");
        console.setEncoder(encoder);
        console.start();
        ch.qos.logback.classic.Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        root.addAppender(console);
        // the environment variable, or a system property of that name (-DLOG_LEVEL=...), as logback.xml read it
        root.setLevel(level(Optional.ofNullable(System.getProperty(LEVEL_VARIABLE))
                .or(() -> Optional.ofNullable(System.getenv(LEVEL_VARIABLE)))));
        LIBRARIES.forEach((name, level) -> context.getLogger(name).setLevel(level));
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }

    /** The root level: LOG_LEVEL's (TRACE, DEBUG, INFO, WARN, ERROR, OFF; any case), else INFO. */
    static Level level(Optional<String> value) {
        return value.map(String::trim)
                .filter(v -> !v.isEmpty())
                .map(v -> Level.toLevel(v, Level.INFO))
                .orElse(Level.INFO);
    }
}
