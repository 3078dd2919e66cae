package org.minifaas.common.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ch.qos.logback.classic.Level;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class LogConfiguratorTest {
    @Test
    void theRootLevelComesFromLogLevelInAnyCaseAndFallsBackToInfo() {
        assertEquals(Level.INFO, LogConfigurator.level(Optional.empty()));
        assertEquals(Level.INFO, LogConfigurator.level(Optional.of("  ")));
        assertEquals(Level.DEBUG, LogConfigurator.level(Optional.of("debug")));
        assertEquals(Level.WARN, LogConfigurator.level(Optional.of(" WARN ")));
        assertEquals(Level.OFF, LogConfigurator.level(Optional.of("off")));
        assertEquals(Level.INFO, LogConfigurator.level(Optional.of("loud")));
    }
}
