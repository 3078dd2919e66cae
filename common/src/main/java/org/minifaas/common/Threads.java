package org.minifaas.common;

import java.util.concurrent.ThreadFactory;

/** Named daemon threads for the services' background executors (they never keep a JVM alive). */
public final class Threads {
    private Threads() {}

    public static ThreadFactory daemon(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }
}
