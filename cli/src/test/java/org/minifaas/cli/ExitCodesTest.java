package org.minifaas.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ExitCodesTest {
    @Test
    void finalStatusesMapToTheDocumentedCodes() {
        assertEquals(0, ExitCodes.forTask("FINISHED", 0));
        assertEquals(0, ExitCodes.forTask("FINISHED", null));
        assertEquals(7, ExitCodes.forTask("FINISHED_WITH_ERRORS", 7));
        assertEquals(255, ExitCodes.forTask("FINISHED_WITH_ERRORS", 255));
        assertEquals(1, ExitCodes.forTask("FINISHED_WITH_ERRORS", null), "build failure, timeout");
        assertEquals(1, ExitCodes.forTask("FINISHED_WITH_ERRORS", -1), "killed");
        assertEquals(1, ExitCodes.forTask("FINISHED_WITH_ERRORS", 0));
        assertEquals(1, ExitCodes.forTask("FINISHED_WITH_ERRORS", 300));
        assertEquals(3, ExitCodes.forTask("UNEXPECTED_ERROR", null));
        assertEquals(4, ExitCodes.forTask("CANCELLED", null));
        assertThrows(IllegalArgumentException.class, () -> ExitCodes.forTask("EXECUTING", null));
    }

    @Test
    void onlyTheFourEndsAreFinal() {
        assertTrue(ExitCodes.isFinal("CANCELLED"));
        assertFalse(ExitCodes.isFinal("PENDING"));
        assertFalse(ExitCodes.isFinal("EXECUTING"));
    }

    @Test
    void statusEventsBecomePhaseLabels() {
        assertEquals("queued", TaskOutput.label("{\"status\":\"PENDING\",\"code\":100}"));
        assertEquals("building", TaskOutput.label("{\"status\":\"EXECUTING\",\"code\":200,\"phase\":\"building\"}"));
        assertEquals(null, TaskOutput.label("{\"status\":\"EXECUTING\",\"code\":200}"), "its phases follow");
        assertEquals(null, TaskOutput.label("not json"));
        assertEquals(null, TaskOutput.label("{\"status\":\"FINISHED\",\"code\":300}"), "the end has its own line");
    }
}
