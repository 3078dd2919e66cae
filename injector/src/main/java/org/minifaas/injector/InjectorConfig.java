package org.minifaas.injector;

import org.minifaas.common.config.Env;
import org.minifaas.common.config.NatsSettings;
import org.minifaas.common.ops.OpsSettings;

/**
 * The injector's configuration, read once at start.
 *
 * @param nats NATS_*: the connection
 * @param ops  METRICS_HOST, METRICS_PORT: the ops server (metrics, health)
 */
record InjectorConfig(NatsSettings nats, OpsSettings ops) {
    public static InjectorConfig fromEnv(Env env) {
        InjectorConfig config = new InjectorConfig(NatsSettings.fromEnv(env), OpsSettings.fromEnv(env));
        env.validate();
        return config;
    }
}
