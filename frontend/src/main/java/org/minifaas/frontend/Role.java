package org.minifaas.frontend;

import io.javalin.security.RouteRole;

/** Who may call a route, checked once for every matched request in {@link FrontendApp}. */
enum Role implements RouteRole {
    /**
     * Anyone, without identity, even while NATS is down: the health check, the API's documentation and the web
     * console's pages and files (they hold no data; the API calls they make are checked).
     */
    PUBLIC,
    /** Users whose X-Forwarded-Email is in ADMIN_USERS. Routes without a role are for any identified user. */
    ADMIN
}
