package org.minifaas.frontend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class SystemServiceTest {

    @Test
    void fileNamesAreReducedToASafeBaseName() {
        assertEquals("report.pdf", SystemService.safeName("report.pdf"));
        assertEquals("passwd", SystemService.safeName("../../etc/passwd"));
        assertEquals("evil.bat", SystemService.safeName("C:\\Windows\\evil.bat"));
        assertEquals("hidden", SystemService.safeName(".hidden"));
        assertEquals("my_file__1_.txt", SystemService.safeName("my file (1).txt"));
        assertEquals(
                SystemService.MAX_NAME_LENGTH,
                SystemService.safeName("a".repeat(500) + ".txt").length());
    }

    @Test
    void namesWithNothingLeftAreRefused() {
        for (String bad : new String[] {null, "", "..", "dir/", "???", "/"}) {
            assertThrows(DomainException.InvalidRequest.class, () -> SystemService.safeName(bad), String.valueOf(bad));
        }
    }
}
