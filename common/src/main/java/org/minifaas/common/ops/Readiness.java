package org.minifaas.common.ops;

/** Whether a service has finished starting: its ops server's {@code /healthz} answers 503 until it has. */
public final class Readiness {
    private volatile boolean ready;

    /** The service is started and takes work from now on. */
    public void markReady() {
        ready = true;
    }

    public boolean isReady() {
        return ready;
    }
}
