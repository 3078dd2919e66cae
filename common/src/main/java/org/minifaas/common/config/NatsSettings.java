package org.minifaas.common.config;

import java.time.Duration;
import java.util.Set;

/**
 * The settings of the shared JetStream layout, read the same way by every service.
 *
 * @param serverUrl        NATS_SERVER_ADDRESS: one server, or every server of a cluster, comma-separated
 * @param token            NATS_TOKEN: the server's authorization token (empty: none)
 * @param retention        TASK_RETENTION_SECONDS: how long a task's status and results live
 * @param maxActiveTasks   MAX_REQUESTS_PER_CLIENT: active (unexpired) tasks per user
 * @param maxResultBytes   MAX_RESULT_BYTES: cap of one task's result store
 * @param ackWait          TASK_ACK_WAIT_SECONDS: silence after which a taken task is redelivered
 * @param maxDeliveries    TASK_MAX_DELIVERIES: deliveries before a task is given up as UNEXPECTED_ERROR
 * @param replicas         NATS_REPLICAS: copies of every stream, key-value bucket and object store the services
 *                         create (1 on one server, 3 in a cluster of 3; at most 5, JetStream's limit)
 */
public record NatsSettings(
        String serverUrl,
        String token,
        Duration retention,
        int maxActiveTasks,
        long maxResultBytes,
        Duration ackWait,
        int maxDeliveries,
        int replicas) {

    /** One replica: a single server. */
    public NatsSettings(
            String serverUrl,
            String token,
            Duration retention,
            int maxActiveTasks,
            long maxResultBytes,
            Duration ackWait,
            int maxDeliveries) {
        this(serverUrl, token, retention, maxActiveTasks, maxResultBytes, ackWait, maxDeliveries, 1);
    }

    public static final String DEFAULT_URL = "nats://localhost:4222";

    public static NatsSettings fromEnv(Env env) {
        return new NatsSettings(
                env.urlList("NATS_SERVER_ADDRESS", DEFAULT_URL, Set.of("nats", "tls")),
                env.secret("NATS_TOKEN", ""),
                env.seconds("TASK_RETENTION_SECONDS", 1200, 1, 30L * 24 * 3600),
                env.intValue("MAX_REQUESTS_PER_CLIENT", 80, 1, 100_000),
                env.longValue("MAX_RESULT_BYTES", 10L * 1024 * 1024, 4096, 1L << 32),
                env.seconds("TASK_ACK_WAIT_SECONDS", 30, 2, 3600),
                env.intValue("TASK_MAX_DELIVERIES", 3, 1, 100),
                env.intValue("NATS_REPLICAS", 1, 1, 5));
    }

    /** Defaults, with another server address (tests, tools). */
    public static NatsSettings defaults(String serverUrl) {
        return new NatsSettings(
                serverUrl, "", Duration.ofSeconds(1200), 80, 10L * 1024 * 1024, Duration.ofSeconds(30), 3);
    }

    public NatsSettings withToken(String value) {
        return new NatsSettings(
                serverUrl, value, retention, maxActiveTasks, maxResultBytes, ackWait, maxDeliveries, replicas);
    }

    public NatsSettings withRetention(Duration value) {
        return new NatsSettings(
                serverUrl, token, value, maxActiveTasks, maxResultBytes, ackWait, maxDeliveries, replicas);
    }

    public NatsSettings withMaxActiveTasks(int value) {
        return new NatsSettings(serverUrl, token, retention, value, maxResultBytes, ackWait, maxDeliveries, replicas);
    }

    public NatsSettings withAckWait(Duration value) {
        return new NatsSettings(
                serverUrl, token, retention, maxActiveTasks, maxResultBytes, value, maxDeliveries, replicas);
    }

    public NatsSettings withMaxResultBytes(long value) {
        return new NatsSettings(serverUrl, token, retention, maxActiveTasks, value, ackWait, maxDeliveries, replicas);
    }

    public NatsSettings withMaxDeliveries(int value) {
        return new NatsSettings(serverUrl, token, retention, maxActiveTasks, maxResultBytes, ackWait, value, replicas);
    }

    public NatsSettings withReplicas(int value) {
        return new NatsSettings(
                serverUrl, token, retention, maxActiveTasks, maxResultBytes, ackWait, maxDeliveries, value);
    }

    /** The servers to connect to (a cluster's, in the order given; the client picks among them). */
    public String[] servers() {
        return serverUrl.split(",");
    }

    /** Never prints the token. */
    @Override
    public String toString() {
        return "NatsSettings[" + serverUrl + (token.isEmpty() ? "" : ", token ****") + ", retention " + retention
                + (replicas > 1 ? ", replicas " + replicas : "") + "]";
    }
}
