package org.minifaas.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.minifaas.common.config.ConfigException;
import org.minifaas.common.config.Env;
import org.minifaas.worker.sandbox.Limits;

class WorkerConfigTest {

    @Test
    void sandboxDefaults() {
        WorkerConfig c = WorkerConfig.fromEnv(new Env(Map.of()));
        assertEquals("bwrap", c.sandbox());
        assertEquals(new Limits(512, 256, 256, 1, 1L << 30), c.function());
        assertEquals(2048, c.buildMemoryMb());
        assertFalse(c.cgo());
        assertEquals(org.minifaas.worker.sandbox.Network.EGRESS, c.network());
        assertEquals(c.workDir().resolve("cache"), c.cacheDir());
        assertEquals(1024 * 1024, c.logMaxBytes());
    }

    @Test
    void everyBadSandboxSettingIsNamedInOneError() {
        ConfigException e = assertThrows(
                ConfigException.class,
                () -> WorkerConfig.fromEnv(new Env(Map.of(
                        "SANDBOX",
                        "maybe",
                        "RUN_AS_USER",
                        "client,client2",
                        "FUNCTION_NETWORK",
                        "public",
                        "FUNCTION_MEMORY_MB",
                        "1",
                        "FUNCTION_CGO",
                        "yes",
                        "LOG_MAX_BYTES",
                        "-1"))));
        for (String name : new String[] {
            "SANDBOX", "RUN_AS_USER", "FUNCTION_NETWORK", "FUNCTION_MEMORY_MB", "FUNCTION_CGO", "LOG_MAX_BYTES"
        }) {
            assertTrue(e.getMessage().contains(name), e.getMessage());
        }
    }

    @Test
    void installDiskLimitsDefaultAndAreRead() {
        WorkerConfig defaults = WorkerConfig.fromEnv(new Env(Map.of()));
        assertEquals(1024L << 20, defaults.installMaxDiskBytes());
        assertEquals(256L << 20, defaults.installMinFreeBytes());
        WorkerConfig set =
                WorkerConfig.fromEnv(new Env(Map.of("INSTALL_MAX_DISK_MB", "64", "INSTALL_MIN_FREE_MB", "0")));
        assertEquals(64L << 20, set.installMaxDiskBytes());
        assertEquals(0, set.installMinFreeBytes());
        ConfigException e = assertThrows(
                ConfigException.class, () -> WorkerConfig.fromEnv(new Env(Map.of("INSTALL_MIN_FREE_MB", "-1"))));
        assertTrue(e.getMessage().contains("INSTALL_MIN_FREE_MB"), e.getMessage());
    }

    @Test
    void sandboxCanBeTurnedOffExplicitly() {
        assertEquals(
                "off", WorkerConfig.fromEnv(new Env(Map.of("SANDBOX", "off"))).sandbox());
    }

    @Test
    void goProxyNeverFallsBackToDirectFetches() {
        assertEquals("https://proxy.golang.org", GoBuilder.proxyOnly(null));
        assertEquals("https://proxy.golang.org", GoBuilder.proxyOnly("https://proxy.golang.org,direct"));
        assertEquals("https://a.example,https://b.example", GoBuilder.proxyOnly("https://a.example|https://b.example"));
        assertEquals("off", GoBuilder.proxyOnly("direct"));
        assertEquals("off", GoBuilder.proxyOnly("off"));
    }
}
