package org.minifaas.frontend;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class SseFormatTest {

    @Test
    void everyLineOfTheTextIsADataLine() {
        assertEquals("id: 7\nevent: stdout\ndata: hello\n\n", LogController.EventWriter.format(7L, "stdout", "hello"));
        assertEquals("id: 8\nevent: stderr\ndata: a\ndata: b\ndata: \ndata: c\n\n",
                LogController.EventWriter.format(8L, "stderr", "a\r\nb\n\rc"));
        assertEquals("event: status\ndata: {}\n\n", LogController.EventWriter.format(null, "status", "{}"));
        assertEquals("event: end\ndata: \n\n", LogController.EventWriter.format(null, "end", ""));
        assertEquals("id: 9\nevent: stdout\ndata: x\ndata: \n\n", LogController.EventWriter.format(9L, "stdout", "x\n"));
    }
}
