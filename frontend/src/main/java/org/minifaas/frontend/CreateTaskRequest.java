package org.minifaas.frontend;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.minifaas.common.Json;
import org.minifaas.common.net.AddressPolicy;

/** A validated {@code POST /createTask} body: {@code {"url": "...", "parameters": ["..."]}}. */
public record CreateTaskRequest(String url, List<String> parameters) {
    static final int MAX_PARAMETERS = 256;
    static final int MAX_URL_LENGTH = 2048;

    /**
     * Parses and validates a body; every problem is an {@link ApiException.InvalidRequest}. The URL's host is
     * resolved (DNS) to check it against the address policy.
     */
    public static CreateTaskRequest parse(byte[] body, Set<String> allowedSchemes, AddressPolicy addresses) {
        JsonNode root;
        try {
            root = Json.MAPPER.readTree(body);
        } catch (JsonProcessingException e) {
            throw new ApiException.InvalidRequest("Malformed JSON body.");
        } catch (java.io.IOException e) {
            throw new ApiException.InvalidRequest("Unreadable body.");
        }
        if (root == null || !root.isObject()) {
            throw new ApiException.InvalidRequest("The body must be a JSON object {\"url\": ..., \"parameters\": [...]}.");
        }
        JsonNode urlNode = root.get("url");
        if (urlNode == null || urlNode.isNull() || !urlNode.isTextual() || urlNode.asText().isBlank()) {
            throw new ApiException.InvalidRequest("Field 'url' is required and must be a non-empty string.");
        }
        String url = urlNode.asText().trim();
        validateUrl(url, allowedSchemes, addresses);

        List<String> parameters = new ArrayList<>();
        JsonNode params = root.get("parameters");
        if (params != null && !params.isNull()) {
            if (!params.isArray()) {
                throw new ApiException.InvalidRequest("Field 'parameters' must be a list of strings.");
            }
            if (params.size() > MAX_PARAMETERS) {
                throw new ApiException.InvalidRequest("At most " + MAX_PARAMETERS + " parameters are allowed.");
            }
            for (JsonNode p : params) {
                if (!p.isTextual()) {
                    throw new ApiException.InvalidRequest("Field 'parameters' must be a list of strings.");
                }
                if (p.asText().indexOf('\0') >= 0) {
                    throw new ApiException.InvalidRequest("Parameters cannot contain NUL characters.");
                }
                parameters.add(p.asText());
            }
        }
        return new CreateTaskRequest(url, List.copyOf(parameters));
    }

    static void validateUrl(String url, Set<String> allowedSchemes, AddressPolicy addresses) {
        if (url.length() > MAX_URL_LENGTH) {
            throw new ApiException.InvalidRequest("The url is longer than " + MAX_URL_LENGTH + " characters.");
        }
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            throw new ApiException.InvalidRequest("The url is not a valid URL.");
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!allowedSchemes.contains(scheme)) {
            throw new ApiException.InvalidRequest("The url must use one of the schemes "
                    + String.join(", ", allowedSchemes) + " (got '" + scheme + "').");
        }
        if (uri.getHost() == null || uri.getHost().isBlank()) {
            throw new ApiException.InvalidRequest("The url has no host.");
        }
        if (uri.getRawUserInfo() != null) {
            throw new ApiException.InvalidRequest("The url must not contain credentials: only public repositories are supported.");
        }
        // last: it may ask DNS
        addresses.refusal(uri).ifPresent(reason -> {
            throw new ApiException.InvalidRequest(Character.toUpperCase(reason.charAt(0)) + reason.substring(1) + ".");
        });
    }
}
