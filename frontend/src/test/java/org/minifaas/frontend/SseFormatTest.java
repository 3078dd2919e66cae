package org.minifaas.frontend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.javalin.http.BadRequestResponse;
import java.util.List;
import org.junit.jupiter.api.Test;

class SseFormatTest {

    @Test
    void everyLineOfTheTextIsADataLine() {
        assertEquals("id: 7\nevent: stdout\ndata: hello\n\n", LogController.EventWriter.format(7L, "stdout", "hello"));
        assertEquals(
                "id: 8\nevent: stderr\ndata: a\ndata: b\ndata: \ndata: c\n\n",
                LogController.EventWriter.format(8L, "stderr", "a\r\nb\n\rc"));
        assertEquals("event: status\ndata: {}\n\n", LogController.EventWriter.format(null, "status", "{}"));
        assertEquals("event: end\ndata: \n\n", LogController.EventWriter.format(null, "end", ""));
        assertEquals(
                "id: 9\nevent: stdout\ndata: x\ndata: \n\n", LogController.EventWriter.format(9L, "stdout", "x\n"));
    }

    @Test
    void lastEventIdIsADecimalFromZeroToTheLargestLongButOne() {
        assertNull(LogController.parseLastEventId(null));
        assertNull(LogController.parseLastEventId(" "));
        assertEquals(0L, LogController.parseLastEventId("0"));
        assertEquals(121L, LogController.parseLastEventId(" 121 "));
        assertEquals(Long.MAX_VALUE - 1, LogController.parseLastEventId("9223372036854775806"));
        assertEquals(Long.MAX_VALUE - 1, LogController.parseLastEventId("0009223372036854775806".substring(3)));
        for (String bad : List.of(
                "9223372036854775807",
                "9223372036854775808",
                "18446744073709551615",
                "99999999999999999999999",
                "-1",
                "-0",
                "+1",
                "1.5",
                "1e3",
                "0x10",
                "x",
                "\u0661\u0662",
                "1 2")) {
            assertThrows(BadRequestResponse.class, () -> LogController.parseLastEventId(bad), bad);
        }
    }
}
