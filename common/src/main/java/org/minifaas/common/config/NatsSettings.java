package org.minifaas.common.config;

import java.time.Duration;
import java.util.Set;

/**
 * The settings of the shared JetStream layout, read the same way by every service.
 *
 * @param serverUrl        NATS_SERVER_ADDRESS
 * @param token            NATS_TOKEN: the server's authorization token (empty: none)
 * @param retention        TASK_RETENTION_SECONDS: how long a task's status and results live
 * @param maxActiveTasks   MAX_REQUESTS_PER_CLIENT: active (unexpired) tasks per user
 * @param maxResultBytes   MAX_RESULT_BYTES: cap of one task's result store
 * @param ackWait          TASK_ACK_WAIT_SECONDS: silence after which a taken task is redelivered
 * @param maxDeliveries    TASK_MAX_DELIVERIES: deliveries before a task is given up as UNEXPECTED_ERROR
 */
public record NatsSettings(String serverUrl, String token, Duration retention, int maxActiveTasks,
                           long maxResultBytes, Duration ackWait, int maxDeliveries) {

    public static final String DEFAULT_URL = "nats://localhost:4222";

    public static NatsSettings fromEnv(Env env) {
        return new NatsSettings(
                env.url("NATS_SERVER_ADDRESS", DEFAULT_URL, Set.of("nats", "tls")),
                env.secret("NATS_TOKEN", ""),
                env.seconds("TASK_RETENTION_SECONDS", 1200, 1, 30L * 24 * 3600),
                env.intValue("MAX_REQUESTS_PER_CLIENT", 80, 1, 100_000),
                env.longValue("MAX_RESULT_BYTES", 10L * 1024 * 1024, 4096, 1L << 32),
                env.seconds("TASK_ACK_WAIT_SECONDS", 30, 2, 3600),
                env.intValue("TASK_MAX_DELIVERIES", 3, 1, 100));
    }

    /** Defaults, with another server address (tests, tools). */
    public static NatsSettings defaults(String serverUrl) {
        return new NatsSettings(serverUrl, "", Duration.ofSeconds(1200), 80, 10L * 1024 * 1024,
                Duration.ofSeconds(30), 3);
    }

    public NatsSettings withToken(String value) {
        return new NatsSettings(serverUrl, value, retention, maxActiveTasks, maxResultBytes, ackWait, maxDeliveries);
    }

    public NatsSettings withRetention(Duration value) {
        return new NatsSettings(serverUrl, token, value, maxActiveTasks, maxResultBytes, ackWait, maxDeliveries);
    }

    public NatsSettings withMaxActiveTasks(int value) {
        return new NatsSettings(serverUrl, token, retention, value, maxResultBytes, ackWait, maxDeliveries);
    }

    public NatsSettings withAckWait(Duration value) {
        return new NatsSettings(serverUrl, token, retention, maxActiveTasks, maxResultBytes, value, maxDeliveries);
    }

    public NatsSettings withMaxResultBytes(long value) {
        return new NatsSettings(serverUrl, token, retention, maxActiveTasks, value, ackWait, maxDeliveries);
    }

    public NatsSettings withMaxDeliveries(int value) {
        return new NatsSettings(serverUrl, token, retention, maxActiveTasks, maxResultBytes, ackWait, value);
    }

    /** Never prints the token. */
    @Override
    public String toString() {
        return "NatsSettings[" + serverUrl + (token.isEmpty() ? "" : ", token ****") + ", retention " + retention + "]";
    }
}
