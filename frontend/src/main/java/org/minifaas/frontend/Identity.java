package org.minifaas.frontend;

import io.javalin.http.UnauthorizedResponse;
import java.util.Locale;
import java.util.Set;

/**
 * The caller as oauth2-proxy identified it: {@code X-Forwarded-User} (the user id) and
 * {@code X-Forwarded-Email}. Trusting these headers is safe only because the frontend is reachable
 * through the proxy alone, which strips client-sent copies of them.
 */
record Identity(String userId, String email) {
    public static final String USER_HEADER = "X-Forwarded-User";
    public static final String EMAIL_HEADER = "X-Forwarded-Email";
    static final String NOT_AUTHENTICATED =
            "Not authenticated: no X-Forwarded-User header (requests must come through oauth2-proxy).";

    /** Reads the identity; a missing or blank user is not authenticated. */
    public static Identity fromHeaders(String user, String email) {
        if (user == null || user.isBlank()) {
            throw new UnauthorizedResponse(NOT_AUTHENTICATED);
        }
        return new Identity(user.trim(), email == null ? "" : email.trim());
    }

    /** Exact, case-insensitive match of the e-mail against the admin set; never true for an empty e-mail. */
    public boolean isAdmin(Set<String> adminEmails) {
        return !email.isEmpty() && adminEmails.contains(email.toLowerCase(Locale.ROOT));
    }
}
