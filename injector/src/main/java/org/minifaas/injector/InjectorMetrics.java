package org.minifaas.injector;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;

/** The injector's metrics: files stored. */
final class InjectorMetrics {
    private final Counter injections;

    public InjectorMetrics(MeterRegistry registry) {
        injections = Counter.builder("minifaas.injections")
                .description("Injected files stored in the injector bucket")
                .register(registry);
    }

    /** Metrics that go nowhere (tests without an ops server). */
    public static InjectorMetrics none() {
        return new InjectorMetrics(new CompositeMeterRegistry());
    }

    void stored() {
        injections.increment();
    }
}
