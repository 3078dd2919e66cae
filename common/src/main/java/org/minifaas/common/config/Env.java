package org.minifaas.common.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads configuration from environment variables. Every read records the effective value (for the
 * startup summary) and every bad value is collected, so that {@link #validate()} reports all of them
 * in one error instead of failing on the first.
 */
public final class Env {
    private static final Logger log = LoggerFactory.getLogger(Env.class);
    private final Map<String, String> source;
    private final List<String> problems = new ArrayList<>();
    private final Map<String, String> effective = new LinkedHashMap<>();

    public Env(Map<String, String> source) {
        this.source = Map.copyOf(source);
    }

    public static Env system() {
        return new Env(System.getenv());
    }

    /**
     * A service's start: reads its configuration from the environment and prints the effective values
     * once; on bad values, logs one error naming every bad variable and exits with status 2.
     */
    public static <T> T loadOrExit(String service, Function<Env, T> read) {
        Env env = system();
        try {
            T config = read.apply(env);
            env.validate();
            log.info("{} config: {}", service, env.summary());
            return config;
        } catch (ConfigException e) {
            log.error("{} not started: {}", service, e.getMessage());
            System.exit(2);
            throw e;
        }
    }

    private String raw(String name) {
        String v = source.get(name);
        return v == null ? null : v.trim();
    }

    public String string(String name, String defaultValue) {
        String v = raw(name);
        String value = v == null ? defaultValue : v;
        effective.put(name, value);
        return value;
    }

    /** A value that is printed masked in the startup summary. */
    public String secret(String name, String defaultValue) {
        String value = raw(name) == null ? defaultValue : raw(name);
        effective.put(name, value == null || value.isEmpty() ? "" : "****");
        return value;
    }

    public long longValue(String name, long defaultValue, long min, long max) {
        String v = raw(name);
        if (v == null || v.isEmpty()) {
            effective.put(name, Long.toString(defaultValue));
            return defaultValue;
        }
        try {
            long parsed = Long.parseLong(v);
            if (parsed < min || parsed > max) {
                problems.add(name + "=" + v + " must be between " + min + " and " + max);
                return defaultValue;
            }
            effective.put(name, v);
            return parsed;
        } catch (NumberFormatException e) {
            problems.add(name + "=" + v + " is not a whole number");
            return defaultValue;
        }
    }

    public int intValue(String name, int defaultValue, int min, int max) {
        return (int) longValue(name, defaultValue, min, max);
    }

    /** {@code true}/{@code false} (also 1/0, yes/no, any case); anything else is a problem. */
    public boolean bool(String name, boolean defaultValue) {
        String v = raw(name);
        if (v == null || v.isEmpty()) {
            effective.put(name, Boolean.toString(defaultValue));
            return defaultValue;
        }
        switch (v.toLowerCase(java.util.Locale.ROOT)) {
            case "true", "1", "yes" -> {
                effective.put(name, "true");
                return true;
            }
            case "false", "0", "no" -> {
                effective.put(name, "false");
                return false;
            }
            default -> {
                problems.add(name + "=" + v + " must be true or false");
                return defaultValue;
            }
        }
    }

    public Duration seconds(String name, long defaultSeconds, long min, long max) {
        return Duration.ofSeconds(longValue(name, defaultSeconds, min, max));
    }

    /** A comma- or space-separated list; empty entries are dropped. */
    public List<String> list(String name, String defaultValue) {
        String value = string(name, defaultValue);
        if (value == null || value.isBlank()) {
            return List.of();
        }
        return Arrays.stream(value.split("[,\\s]+")).filter(s -> !s.isEmpty()).toList();
    }

    /** A list restricted to a set of allowed words (case-insensitive, returned lower-case). */
    public Set<String> choices(String name, String defaultValue, Set<String> allowed) {
        Set<String> out = new LinkedHashSet<>();
        for (String item : list(name, defaultValue)) {
            String lower = item.toLowerCase();
            if (allowed != null && !allowed.contains(lower)) {
                problems.add(name + " contains '" + item + "'; allowed: " + String.join(", ", allowed));
            } else {
                out.add(lower);
            }
        }
        return out;
    }

    public String url(String name, String defaultValue, Set<String> schemes) {
        String value = string(name, defaultValue);
        int idx = value == null ? -1 : value.indexOf("://");
        if (idx <= 0 || !schemes.contains(value.substring(0, idx).toLowerCase())) {
            problems.add(name + "=" + value + " must be a URL starting with one of "
                    + schemes.stream().map(s -> s + "://").collect(Collectors.joining(", ")));
        }
        return value;
    }

    /**
     * A comma-separated list of URLs (NATS_SERVER_ADDRESS may name every server of a cluster), each checked as
     * {@link #url}; returned as given, without blanks around the commas.
     */
    public String urlList(String name, String defaultValue, Set<String> schemes) {
        String value = string(name, defaultValue);
        List<String> urls = value == null
                ? List.of()
                : Arrays.stream(value.split(",")).map(String::trim).toList();
        if (urls.isEmpty() || urls.stream().anyMatch(String::isEmpty)) {
            problems.add(name + "=" + value + " must be one URL or a comma-separated list of URLs");
            return value;
        }
        for (String url : urls) {
            int idx = url.indexOf("://");
            if (idx <= 0 || !schemes.contains(url.substring(0, idx).toLowerCase())) {
                problems.add(name + ": " + url + " must be a URL starting with one of "
                        + schemes.stream().map(s -> s + "://").collect(Collectors.joining(", ")));
            }
        }
        return String.join(",", urls);
    }

    /** Adds a problem found by a cross-field check of the caller. */
    public void problem(String message) {
        problems.add(message);
    }

    /** Throws one {@link ConfigException} naming every bad variable, if any was found. */
    public void validate() {
        if (!problems.isEmpty()) {
            throw new ConfigException(problems);
        }
    }

    /** The effective configuration, secrets masked, for one log line at start. */
    public String summary() {
        return effective.entrySet().stream()
                .map(e -> e.getKey() + "=" + e.getValue())
                .collect(Collectors.joining(" "));
    }
}
