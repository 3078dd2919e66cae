package org.minifaas.frontend;

import io.javalin.http.Context;
import java.util.LinkedHashMap;
import java.util.Map;
import org.minifaas.common.webhook.WebhookKeys;

/**
 * {@code GET /v1/webhook-key}: the caller's own key for verifying the callbacks of their tasks. The observer signs
 * each delivery with its task owner's key, {@link WebhookKeys#forUser} of WEBHOOK_SECRET, so a user's key verifies
 * their deliveries only (the secret itself is never handed out).
 */
final class WebhookKeyController {
    static final String ALGORITHM = "HMAC-SHA256";
    static final String SIGNATURE_HEADER = "X-MiniFaaS-Signature";
    /** The observer's words for the same situation (its callbacks say FAILED with them). */
    static final String NOT_CONFIGURED = "webhooks are not configured on this server (WEBHOOK_SECRET unset)";

    private final FrontendConfig config;

    WebhookKeyController(FrontendConfig config) {
        this.config = config;
    }

    void key(Context ctx) {
        if (!config.webhooksConfigured()) {
            ctx.status(404).json(Map.of("error", NOT_CONFIGURED));
            return;
        }
        Map<String, String> body = new LinkedHashMap<>();
        body.put("key", WebhookKeys.forUser(config.webhookSecret(), Requests.userId(ctx)));
        body.put("algorithm", ALGORITHM);
        body.put("header", SIGNATURE_HEADER);
        // a credential: not to be kept by caches on the way
        ctx.header("Cache-Control", "no-store").json(body);
    }
}
