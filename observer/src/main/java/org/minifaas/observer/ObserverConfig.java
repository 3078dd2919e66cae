package org.minifaas.observer;

import java.time.Duration;
import java.util.Set;
import org.minifaas.common.config.Env;
import org.minifaas.common.config.NatsSettings;
import org.minifaas.common.ops.OpsSettings;

/**
 * The observer's configuration, read once at start.
 *
 * @param interval         OBSERVER_INTERVAL_SECONDS: time between checks
 * @param congestionLimit  CONGESTION_LIMIT: backlog above which the queue counts as busy
 * @param minWorkers       MIN_WORKERS: the worker count never goes below
 * @param maxWorkers       MAX_WORKERS: the worker count never goes above
 * @param sweepInterval    RETENTION_SWEEP_SECONDS: time between retention sweeps
 * @param sweepIdle        RETENTION_SWEEP_IDLE_SECONDS: an emptied stream is deleted after this long without activity
 * @param scaler           SCALER: {@code none} (record decisions only) or {@code docker}
 * @param webhooks         WEBHOOK_*: the webhook sender's settings
 * @param ops              METRICS_HOST, METRICS_PORT: the ops server (metrics, health)
 */
public record ObserverConfig(
        NatsSettings nats,
        Duration interval,
        int congestionLimit,
        int minWorkers,
        int maxWorkers,
        Duration sweepInterval,
        Duration sweepIdle,
        String scaler,
        WebhookSender.Settings webhooks,
        OpsSettings ops) {

    /** Without an ops server (tests). */
    public ObserverConfig(
            NatsSettings nats,
            Duration interval,
            int congestionLimit,
            int minWorkers,
            int maxWorkers,
            Duration sweepInterval,
            Duration sweepIdle,
            String scaler,
            WebhookSender.Settings webhooks) {
        this(
                nats,
                interval,
                congestionLimit,
                minWorkers,
                maxWorkers,
                sweepInterval,
                sweepIdle,
                scaler,
                webhooks,
                OpsSettings.DISABLED);
    }

    public static ObserverConfig fromEnv(Env env) {
        NatsSettings nats = NatsSettings.fromEnv(env);
        int min = env.intValue("MIN_WORKERS", 3, 0, 1000);
        int max = env.intValue("MAX_WORKERS", 10, 1, 1000);
        if (max < min) {
            env.problem("MAX_WORKERS=" + max + " must not be below MIN_WORKERS=" + min);
        }
        ObserverConfig config = new ObserverConfig(
                nats,
                env.seconds("OBSERVER_INTERVAL_SECONDS", 5, 1, 3600),
                env.intValue("CONGESTION_LIMIT", 10, 1, 1_000_000),
                min,
                max,
                env.seconds("RETENTION_SWEEP_SECONDS", 60, 1, 86_400),
                env.seconds("RETENTION_SWEEP_IDLE_SECONDS", 60, 0, 86_400),
                env.choices("SCALER", "none", Set.of("none", "docker")).stream()
                        .findFirst()
                        .orElse("none"),
                WebhookSender.Settings.fromEnv(env),
                OpsSettings.fromEnv(env));
        env.validate();
        return config;
    }
}
