package org.minifaas.common.nats;

/**
 * The services' exit (SIGTERM, Ctrl-C): stop the service first (it may still need NATS to hand work back), then
 * close the connection.
 */
final class ShutdownHook {
    private ShutdownHook() {}

    static void install(NatsLayer.Stop stopServiceFirst, NatsLayer layer) {
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> {
                            try {
                                stopServiceFirst.run();
                                layer.close();
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                            }
                        },
                        "shutdown"));
    }
}
