package org.minifaas.frontend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.minifaas.common.model.Task;
import org.minifaas.common.model.TaskRecord;

class PageCursorTest {
    static TaskRecord record(String createdAt, String id) {
        return TaskRecord.pending(
                new Task(UUID.fromString(id), "u", "https://example.com/a.git", List.of(), null, 0, null, createdAt));
    }

    @Test
    void roundTripsAndSplitsTheOrderExactly() {
        TaskRecord newer = record("2026-11-27T10:00:01.000Z", "00000000-0000-4000-8000-000000000002");
        TaskRecord sameTimeLowId = record("2026-11-27T10:00:00.000Z", "00000000-0000-4000-8000-000000000001");
        TaskRecord sameTimeHighId = record("2026-11-27T10:00:00.000Z", "00000000-0000-4000-8000-000000000003");
        List<TaskRecord> sorted = List.of(sameTimeHighId, newer, sameTimeLowId).stream()
                .sorted(PageCursor.NEWEST_FIRST)
                .toList();
        assertEquals(List.of(newer, sameTimeLowId, sameTimeHighId), sorted);

        PageCursor cursor = PageCursor.decode(PageCursor.of(sameTimeLowId).encode());
        assertEquals(PageCursor.of(sameTimeLowId), cursor);
        assertFalse(cursor.precedes(newer));
        assertFalse(cursor.precedes(sameTimeLowId));
        assertTrue(cursor.precedes(sameTimeHighId));
        assertFalse(PageCursor.of(sameTimeLowId).encode().contains("="), "base64url without padding");
    }

    @Test
    void anythingButAGivenCursorIsInvalid() {
        for (String bad : List.of(
                "",
                "***",
                "YWJj",
                b64("2026-11-27T10:00:00Z"),
                b64("nope|" + UUID.randomUUID()),
                b64("2026-11-27T10:00:00Z|not-a-uuid"))) {
            assertThrows(DomainException.InvalidRequest.class, () -> PageCursor.decode(bad), bad);
        }
    }

    static String b64(String s) {
        return Base64.getUrlEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }
}
