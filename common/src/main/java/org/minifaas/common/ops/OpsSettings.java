package org.minifaas.common.ops;

import org.minifaas.common.config.Env;

/**
 * Where a service's ops server (metrics and health) listens: never the service's own port, and never published
 * through the proxy.
 *
 * @param host METRICS_HOST: the interface to listen on
 * @param port METRICS_PORT: the port; 0 = no ops server; negative (tests only): any free port
 */
public record OpsSettings(String host, int port) {
    /** Prometheus's port for exporters of this kind; every service uses it in its own container. */
    public static final int DEFAULT_PORT = 9464;

    /** No ops server (the tests that do not look at it). */
    public static final OpsSettings DISABLED = new OpsSettings("127.0.0.1", 0);

    public static OpsSettings fromEnv(Env env) {
        return new OpsSettings(
                env.string("METRICS_HOST", "0.0.0.0"), env.intValue("METRICS_PORT", DEFAULT_PORT, 0, 65535));
    }

    public boolean enabled() {
        return port != 0;
    }
}
