package org.minifaas.frontend;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.javalin.http.UnauthorizedResponse;
import java.util.Set;
import org.junit.jupiter.api.Test;

class IdentityTest {
    static final Set<String> ADMINS = Set.of("admin@example.com");

    @Test
    void userHeaderIsRequired() {
        assertThrows(UnauthorizedResponse.class, () -> Identity.fromHeaders(null, "a@b.c"));
        assertThrows(UnauthorizedResponse.class, () -> Identity.fromHeaders("  ", "a@b.c"));
    }

    @Test
    void adminIsAnExactCaseInsensitiveMatch() {
        assertTrue(Identity.fromHeaders("1", "Admin@Example.com").isAdmin(ADMINS));
        assertFalse(Identity.fromHeaders("1", "").isAdmin(ADMINS));
        assertFalse(Identity.fromHeaders("1", null).isAdmin(ADMINS));
        assertFalse(Identity.fromHeaders("1", "admin@example").isAdmin(ADMINS));
        assertFalse(Identity.fromHeaders("1", "dmin@example.com").isAdmin(ADMINS));
        assertFalse(Identity.fromHeaders("1", "admin@example.com.evil.org").isAdmin(ADMINS));
    }
}
