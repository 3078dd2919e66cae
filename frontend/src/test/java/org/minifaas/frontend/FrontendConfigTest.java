package org.minifaas.frontend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.minifaas.common.config.ConfigException;
import org.minifaas.common.config.Env;

class FrontendConfigTest {

    @Test
    void privateRepositoryAddressesAreRefusedByDefault() {
        Env env = new Env(Map.of());
        FrontendConfig config = FrontendConfig.fromEnv(env);
        assertFalse(config.allowPrivateAddresses());
        assertTrue(config.addressPolicy()
                .refusal(URI.create("http://127.0.0.1/x.git"))
                .isPresent());
        assertTrue(env.summary().contains("REPO_ALLOW_PRIVATE_ADDRESSES=false"), env.summary());
    }

    @Test
    void privateRepositoryAddressesCanBeAllowed() {
        for (String value : new String[] {"true", "TRUE", " True ", "1", "yes"}) {
            Env env = new Env(Map.of("REPO_ALLOW_PRIVATE_ADDRESSES", value));
            FrontendConfig config = FrontendConfig.fromEnv(env);
            assertTrue(config.allowPrivateAddresses(), value);
            assertTrue(config.addressPolicy()
                    .refusal(URI.create("http://127.0.0.1/x.git"))
                    .isEmpty());
            assertTrue(env.summary().contains("REPO_ALLOW_PRIVATE_ADDRESSES=true"), env.summary());
        }
        assertFalse(FrontendConfig.fromEnv(new Env(Map.of("REPO_ALLOW_PRIVATE_ADDRESSES", "false")))
                .allowPrivateAddresses());
    }

    @Test
    void aBadFlagIsAStartupError() {
        for (String value : new String[] {"tru", "on", "2"}) {
            ConfigException e = assertThrows(
                    ConfigException.class,
                    () -> FrontendConfig.fromEnv(new Env(Map.of("REPO_ALLOW_PRIVATE_ADDRESSES", value))));
            assertTrue(
                    e.getMessage().contains("REPO_ALLOW_PRIVATE_ADDRESSES=" + value + " must be true or false"),
                    e.getMessage());
        }
    }

    @Test
    void theWebhookSecretIsReadMasked() {
        Env env = new Env(Map.of("WEBHOOK_SECRET", "hunter2"));
        FrontendConfig config = FrontendConfig.fromEnv(env);
        assertEquals("hunter2", config.webhookSecret());
        assertTrue(config.webhooksConfigured());
        assertTrue(env.summary().contains("WEBHOOK_SECRET=****"), env.summary());
        assertFalse(env.summary().contains("hunter2"), env.summary());
        assertFalse(config.toString().contains("hunter2"), config.toString());
        assertTrue(config.toString().contains("webhookSecret=****"), config.toString());

        Env unset = new Env(Map.of());
        FrontendConfig none = FrontendConfig.fromEnv(unset);
        assertEquals(null, none.webhookSecret());
        assertFalse(none.webhooksConfigured());
        assertTrue(unset.summary().contains("WEBHOOK_SECRET="), unset.summary());
        assertFalse(
                FrontendConfig.fromEnv(new Env(Map.of("WEBHOOK_SECRET", ""))).webhooksConfigured());
    }

    @Test
    void theCapsPerUserAreTenStreamsAndTenWaitingReads() {
        FrontendConfig config = FrontendConfig.fromEnv(new Env(Map.of()));
        assertEquals(200, config.maxLogStreams());
        assertEquals(100, config.maxWaitingRequests());
        assertEquals(10, config.maxLogStreamsPerUser());
        assertEquals(10, config.maxWaitingRequestsPerUser());
    }
}
