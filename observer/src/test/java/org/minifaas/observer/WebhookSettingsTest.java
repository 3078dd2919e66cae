package org.minifaas.observer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.minifaas.common.config.ConfigException;
import org.minifaas.common.config.Env;

class WebhookSettingsTest {

    @Test
    void defaultScheduleRetriesSixTimesOverMoreThanTenMinutes() {
        Env env = new Env(Map.of());
        WebhookSender.Settings s = WebhookSender.Settings.fromEnv(env);
        env.validate();
        assertEquals(6, s.retries().size());
        assertTrue(s.retries().stream().mapToLong(Duration::toSeconds).sum() >= 600);
        assertEquals(Duration.ofSeconds(10), s.delayAfter(1).orElseThrow());
        assertEquals(Duration.ofSeconds(480), s.delayAfter(6).orElseThrow());
        assertTrue(s.delayAfter(7).isEmpty(), "the 7th attempt is the last");
        assertEquals(Duration.ofSeconds(10), s.timeout());
        assertEquals(4, s.senders());
        assertFalse(s.allowPrivateAddresses());
        assertFalse(s.signing());
    }

    @Test
    void theSecretIsMaskedInTheEffectiveConfig() {
        Env env = new Env(Map.of(
                "WEBHOOK_SECRET",
                "hunter2",
                "WEBHOOK_RETRY_SECONDS",
                "1, 2 3",
                "REPO_ALLOW_PRIVATE_ADDRESSES",
                "true"));
        WebhookSender.Settings s = WebhookSender.Settings.fromEnv(env);
        env.validate();
        assertEquals("hunter2", s.secret());
        assertEquals(List.of(Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(3)), s.retries());
        assertTrue(s.allowPrivateAddresses());
        assertTrue(env.summary().contains("WEBHOOK_SECRET=****"), env.summary());
        assertFalse(env.summary().contains("hunter2"), env.summary());
        assertFalse(s.toString().contains("hunter2"), s.toString());
    }

    @Test
    void oneErrorNamesEveryBadWebhookVariable() {
        Env env = new Env(Map.of(
                "WEBHOOK_RETRY_SECONDS",
                "10,soon,0",
                "WEBHOOK_TIMEOUT_SECONDS",
                "0",
                "WEBHOOK_SENDERS",
                "none",
                "REPO_ALLOW_PRIVATE_ADDRESSES",
                "maybe"));
        ConfigException e = assertThrows(ConfigException.class, () -> ObserverConfig.fromEnv(env));
        assertEquals(5, e.problems().size(), e.problems().toString());
        String message = e.getMessage();
        for (String name : List.of(
                "'soon'", "'0'", "WEBHOOK_TIMEOUT_SECONDS", "WEBHOOK_SENDERS", "REPO_ALLOW_PRIVATE_ADDRESSES")) {
            assertTrue(message.contains(name), message);
        }
        Env empty = new Env(Map.of("WEBHOOK_RETRY_SECONDS", " "));
        assertThrows(ConfigException.class, () -> ObserverConfig.fromEnv(empty));
    }
}
