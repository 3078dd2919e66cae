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
        assertTrue(config.addressPolicy().refusal(URI.create("http://127.0.0.1/x.git")).isPresent());
        assertTrue(env.summary().contains("REPO_ALLOW_PRIVATE_ADDRESSES=false"), env.summary());
    }

    @Test
    void privateRepositoryAddressesCanBeAllowed() {
        for (String value : new String[] {"true", "TRUE", " True ", "1", "yes"}) {
            Env env = new Env(Map.of("REPO_ALLOW_PRIVATE_ADDRESSES", value));
            FrontendConfig config = FrontendConfig.fromEnv(env);
            assertTrue(config.allowPrivateAddresses(), value);
            assertTrue(config.addressPolicy().refusal(URI.create("http://127.0.0.1/x.git")).isEmpty());
            assertTrue(env.summary().contains("REPO_ALLOW_PRIVATE_ADDRESSES=true"), env.summary());
        }
        assertFalse(FrontendConfig.fromEnv(new Env(Map.of("REPO_ALLOW_PRIVATE_ADDRESSES", "false")))
                .allowPrivateAddresses());
    }

    @Test
    void aBadFlagIsAStartupError() {
        for (String value : new String[] {"tru", "on", "2"}) {
            ConfigException e = assertThrows(ConfigException.class,
                    () -> FrontendConfig.fromEnv(new Env(Map.of("REPO_ALLOW_PRIVATE_ADDRESSES", value))));
            assertTrue(e.getMessage().contains("REPO_ALLOW_PRIVATE_ADDRESSES=" + value + " must be true or false"),
                    e.getMessage());
        }
    }
}
