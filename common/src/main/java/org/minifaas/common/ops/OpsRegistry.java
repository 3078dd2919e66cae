package org.minifaas.common.ops;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.core.instrument.config.NamingConvention;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** A service's metrics registry: Prometheus, tagged {@code service=<name>}, with the JVM's own metrics bound. */
public final class OpsRegistry {
    private static final Path STATUS = Path.of("/proc/self/status");

    private OpsRegistry() {}

    /** @param service frontend, worker, observer or injector */
    public static PrometheusMeterRegistry create(String service) {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        registry.config().commonTags("service", service);
        registry.config()
                .namingConvention(new KeepCreatedSuffix(registry.config().namingConvention()));
        new JvmMemoryMetrics().bindTo(registry);
        // listens to the JVM's GC notifications: no thread of its own; lives as long as the process
        new JvmGcMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        // the figure the memory budget is about (heap + metaspace + code cache + stacks + native), read at scrape
        Gauge.builder("process.resident.memory", OpsRegistry::residentBytes)
                .baseUnit("bytes")
                .description("Resident set size of the process (VmRSS of Linux's /proc/self/status)")
                .register(registry);
        return registry;
    }

    /**
     * Prometheus's naming drops a trailing {@code _created} (a reserved suffix in OpenMetrics), which would turn
     * {@code minifaas.tasks.created} into {@code minifaas_tasks_total}; the dashboards and alerts use
     * {@code minifaas_tasks_created_total}, so such a name keeps its last word.
     */
    private record KeepCreatedSuffix(NamingConvention prometheus) implements NamingConvention {
        private static final String CREATED = ".created";

        @Override
        public String name(String name, Meter.Type type, String baseUnit) {
            if (name.endsWith(CREATED) && name.length() > CREATED.length()) {
                return prometheus.name(name.substring(0, name.length() - CREATED.length()), type, baseUnit)
                        + "_created";
            }
            return prometheus.name(name, type, baseUnit);
        }

        @Override
        public String tagKey(String key) {
            return prometheus.tagKey(key);
        }

        @Override
        public String tagValue(String value) {
            return prometheus.tagValue(value);
        }
    }

    private static double residentBytes() {
        try {
            for (String line : Files.readAllLines(STATUS)) {
                if (line.startsWith("VmRSS:")) { // "VmRSS:    123456 kB"
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux: no figure
        }
        return Double.NaN;
    }
}
