package org.minifaas.common.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class EnvTest {

    @Test
    void defaultsApplyWhenVariablesAreMissing() {
        Env env = new Env(Map.of());
        NatsSettings s = NatsSettings.fromEnv(env);
        env.validate();
        assertEquals("nats://localhost:4222", s.serverUrl());
        assertEquals(Duration.ofMinutes(20), s.retention());
        assertEquals(80, s.maxActiveTasks());
        assertEquals(10L * 1024 * 1024, s.maxResultBytes());
    }

    @Test
    void valuesAreReadAndTrimmed() {
        Env env = new Env(Map.of("MAX_REQUESTS_PER_CLIENT", " 5 ", "NATS_SERVER_ADDRESS", "nats://nats:4222"));
        NatsSettings s = NatsSettings.fromEnv(env);
        env.validate();
        assertEquals(5, s.maxActiveTasks());
        assertEquals("nats://nats:4222", s.serverUrl());
    }

    @Test
    void oneErrorNamesEveryBadVariable() {
        Env env = new Env(Map.of(
                "MAX_REQUESTS_PER_CLIENT", "many",
                "TASK_RETENTION_SECONDS", "0",
                "NATS_SERVER_ADDRESS", "localhost:4222"));
        NatsSettings.fromEnv(env);
        ConfigException e = assertThrows(ConfigException.class, env::validate);
        assertEquals(3, e.problems().size(), e.getMessage());
        assertTrue(e.getMessage().contains("MAX_REQUESTS_PER_CLIENT"));
        assertTrue(e.getMessage().contains("TASK_RETENTION_SECONDS"));
        assertTrue(e.getMessage().contains("NATS_SERVER_ADDRESS"));
    }

    @Test
    void listsSplitOnCommasAndSpaces() {
        Env env = new Env(Map.of("ADMIN_USERS", "a@x.org, b@y.org  c@z.org,,"));
        assertEquals(List.of("a@x.org", "b@y.org", "c@z.org"), env.list("ADMIN_USERS", ""));
    }

    @Test
    void choicesRejectUnknownWords() {
        Env env = new Env(Map.of("ALLOWED_REPO_SCHEMES", "https,FILE"));
        Set<String> got = env.choices("ALLOWED_REPO_SCHEMES", "https", Set.of("https", "http"));
        assertEquals(Set.of("https"), got);
        ConfigException e = assertThrows(ConfigException.class, env::validate);
        assertTrue(e.getMessage().contains("FILE"));
    }

    @Test
    void secretsAreMaskedInTheSummary() {
        Env env = new Env(Map.of("TOKEN", "hunter2"));
        assertEquals("hunter2", env.secret("TOKEN", ""));
        assertTrue(env.summary().contains("TOKEN=****"));
        assertTrue(!env.summary().contains("hunter2"));
    }

    @Test
    void booleansAcceptTheUsualSpellingsAndNameTheRest() {
        Env env = new Env(Map.of("A", "TRUE", "B", "0", "C", "maybe"));
        org.junit.jupiter.api.Assertions.assertTrue(env.bool("A", false));
        org.junit.jupiter.api.Assertions.assertFalse(env.bool("B", true));
        org.junit.jupiter.api.Assertions.assertTrue(env.bool("D", true));
        env.bool("C", false);
        ConfigException e = org.junit.jupiter.api.Assertions.assertThrows(ConfigException.class, env::validate);
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("C=maybe must be true or false"));
    }
}
