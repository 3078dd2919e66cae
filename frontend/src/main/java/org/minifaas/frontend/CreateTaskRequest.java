package org.minifaas.frontend;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.minifaas.common.Json;
import org.minifaas.common.model.Task;
import org.minifaas.common.net.AddressPolicy;

/**
 * A validated task request: {@code POST /createTask}'s {@code {"url": "...", "parameters": ["..."]}}, or
 * {@code POST /v1/tasks}'s, which may also carry {@code ref}, {@code timeoutSeconds}, {@code callbackUrl} and
 * {@code runtime}.
 *
 * @param ref            branch, tag or commit to run (null: the default branch)
 * @param timeoutSeconds the task's own run limit (0: the workers' limit)
 * @param callbackUrl    where the record is POSTed once the task ends (null: nowhere)
 * @param runtime        go, node or python (null: the worker recognises it from the repository's files)
 */
record CreateTaskRequest(
        String url, List<String> parameters, String ref, int timeoutSeconds, String callbackUrl, String runtime) {
    static final int MAX_PARAMETERS = 256;
    static final int MAX_URL_LENGTH = 2048;
    static final int MAX_REF_LENGTH = 255;
    /** What Git forbids in a ref name (git check-ref-format). */
    private static final String REF_FORBIDDEN = "~^:?*[\\";
    /** Callbacks are plain web hooks, whatever schemes repositories may use. */
    private static final Set<String> CALLBACK_SCHEMES =
            Collections.unmodifiableSet(new LinkedHashSet<>(List.of("https", "http")));

    public CreateTaskRequest(String url, List<String> parameters) {
        this(url, parameters, null, 0, null, null);
    }

    /**
     * Parses and validates a {@code /createTask} body (other fields are ignored, as they always were); every problem
     * is a {@link DomainException.InvalidRequest}. The URL's host is resolved (DNS) to check it against the address
     * policy.
     */
    public static CreateTaskRequest parse(byte[] body, Set<String> allowedSchemes, AddressPolicy addresses) {
        JsonNode root = readObject(body);
        return new CreateTaskRequest(url(root, allowedSchemes, addresses), parameters(root));
    }

    /**
     * Parses and validates a {@code POST /v1/tasks} body: the fields of {@link #parse} plus {@code ref},
     * {@code timeoutSeconds} (1 to {@code maxTimeoutSeconds}) and {@code callbackUrl} (http or https, under the same
     * address policy and checks as repositories).
     */
    public static CreateTaskRequest parseV1(
            byte[] body, Set<String> allowedSchemes, AddressPolicy addresses, int maxTimeoutSeconds) {
        JsonNode root = readObject(body);
        String url = url(root, allowedSchemes, addresses);
        List<String> parameters = parameters(root);
        String ref = ref(root.get("ref"));
        int timeout = timeoutSeconds(root.get("timeoutSeconds"), maxTimeoutSeconds);
        String callback = callbackUrl(root.get("callbackUrl"), addresses);
        String runtime = runtime(root.get("runtime"));
        return new CreateTaskRequest(url, parameters, ref, timeout, callback, runtime);
    }

    private static JsonNode readObject(byte[] body) {
        JsonNode root;
        try {
            // one JSON value and nothing after it: "{...} garbage" is not a request
            root = Json.MAPPER
                    .reader()
                    .with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                    .readTree(body);
        } catch (JsonProcessingException e) {
            throw new DomainException.InvalidRequest("Malformed JSON body.");
        } catch (java.io.IOException e) {
            throw new DomainException.InvalidRequest("Unreadable body.");
        }
        if (root == null || !root.isObject()) {
            throw new DomainException.InvalidRequest(
                    "The body must be a JSON object {\"url\": ..., \"parameters\": [...]}.");
        }
        if (!wellFormed(root)) {
            // JSON's "\\ud800" escapes can name half a character, which UTF-8 cannot store: it would become '?'
            throw new DomainException.InvalidRequest(
                    "The body contains an unpaired UTF-16 surrogate escape (\\ud800-\\udfff): not a character.");
        }
        return root;
    }

    /** Whether every string and field name in the tree is whole Unicode (no unpaired surrogate). */
    static boolean wellFormed(JsonNode node) {
        if (node.isTextual()) {
            return wellFormed(node.textValue());
        }
        var fields = node.fields();
        while (fields.hasNext()) {
            var field = fields.next();
            if (!wellFormed(field.getKey()) || !wellFormed(field.getValue())) {
                return false;
            }
        }
        if (node.isArray()) {
            for (JsonNode element : node) {
                if (!wellFormed(element)) {
                    return false;
                }
            }
        }
        return true;
    }

    private static boolean wellFormed(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                return false;
            }
        }
        return true;
    }

    private static String url(JsonNode root, Set<String> allowedSchemes, AddressPolicy addresses) {
        JsonNode urlNode = root.get("url");
        if (urlNode == null
                || urlNode.isNull()
                || !urlNode.isTextual()
                || urlNode.asText().isBlank()) {
            throw new DomainException.InvalidRequest("Field 'url' is required and must be a non-empty string.");
        }
        String url = urlNode.asText().trim();
        validateUrl(url, allowedSchemes, addresses);
        // schemes are case-insensitive, git's are not ("HTTPS://host/repo" is no URL to it): stored in lowercase
        int colon = url.indexOf(':');
        return url.substring(0, colon).toLowerCase(Locale.ROOT) + url.substring(colon);
    }

    private static List<String> parameters(JsonNode root) {
        List<String> parameters = new ArrayList<>();
        JsonNode params = root.get("parameters");
        if (params != null && !params.isNull()) {
            if (!params.isArray()) {
                throw new DomainException.InvalidRequest("Field 'parameters' must be a list of strings.");
            }
            if (params.size() > MAX_PARAMETERS) {
                throw new DomainException.InvalidRequest("At most " + MAX_PARAMETERS + " parameters are allowed.");
            }
            for (JsonNode p : params) {
                if (!p.isTextual()) {
                    throw new DomainException.InvalidRequest("Field 'parameters' must be a list of strings.");
                }
                if (p.asText().indexOf('\0') >= 0) {
                    throw new DomainException.InvalidRequest("Parameters cannot contain NUL characters.");
                }
                parameters.add(p.asText());
            }
        }
        return List.copyOf(parameters);
    }

    /**
     * A branch, tag or commit: what Git accepts as a ref name, and nothing a command line could read as an option or
     * git as a revision expression. Refuses exactly what the worker refuses (worker's {@code GitSource.refProblem}:
     * at most 255 characters, no leading '-', no '..', no '@{', no whitespace or control characters, none of
     * {@link #REF_FORBIDDEN}), so that a ref accepted here is never a task failing on its ref's form.
     */
    private static String ref(JsonNode node) {
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isTextual() || node.asText().isEmpty()) {
            throw new DomainException.InvalidRequest(
                    "Field 'ref' must be a non-empty string (a branch, tag or commit).");
        }
        String ref = node.asText();
        if (ref.length() > MAX_REF_LENGTH) {
            throw new DomainException.InvalidRequest("Field 'ref' is longer than " + MAX_REF_LENGTH + " characters.");
        }
        if (ref.startsWith("-")) {
            throw new DomainException.InvalidRequest("Field 'ref' must not start with '-'.");
        }
        if (ref.contains("..")) {
            throw new DomainException.InvalidRequest("Field 'ref' must not contain '..'.");
        }
        if (ref.contains("@{")) {
            // git reads name@{...} as a reflog or upstream expression (@{-1}, main@{upstream}), never a ref name
            throw new DomainException.InvalidRequest("Field 'ref' must not contain '@{'.");
        }
        for (int i = 0; i < ref.length(); i++) {
            char c = ref.charAt(i);
            if (Character.isWhitespace(c) || Character.isISOControl(c) || Character.isSpaceChar(c)) {
                throw new DomainException.InvalidRequest("Field 'ref' must not contain spaces or control characters.");
            }
            if (REF_FORBIDDEN.indexOf(c) >= 0) {
                throw new DomainException.InvalidRequest(
                        "Field 'ref' must not contain any of ~ ^ : ? * [ \\ (got '" + c + "').");
            }
        }
        return ref;
    }

    /** One of {@link Task#RUNTIMES}, or null when absent. */
    private static String runtime(JsonNode node) {
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isTextual() || !Task.RUNTIMES.contains(node.asText())) {
            throw new DomainException.InvalidRequest(
                    "Field 'runtime' must be one of " + String.join(", ", Task.RUNTIMES)
                            + " (or left out: the worker recognises it from the repository).");
        }
        return node.asText();
    }

    private static int timeoutSeconds(JsonNode node, int max) {
        if (node == null || node.isNull()) {
            return 0;
        }
        if (!node.isIntegralNumber() || !node.canConvertToInt() || node.asInt() < 1) {
            throw new DomainException.InvalidRequest(
                    "Field 'timeoutSeconds' must be a whole number of seconds from 1 to " + max + ".");
        }
        if (node.asInt() > max) {
            throw new DomainException.InvalidRequest("Field 'timeoutSeconds' must be at most " + max
                    + " (MAX_SECONDS_EXECUTION_PER_REQUEST, the workers' limit).");
        }
        return node.asInt();
    }

    private static String callbackUrl(JsonNode node, AddressPolicy addresses) {
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isTextual() || node.asText().isBlank()) {
            throw new DomainException.InvalidRequest(
                    "Field 'callbackUrl' must be a non-empty string (an http or https URL).");
        }
        String url = node.asText().trim();
        validateUrl("callbackUrl", url, CALLBACK_SCHEMES, addresses);
        return url;
    }

    static void validateUrl(String url, Set<String> allowedSchemes, AddressPolicy addresses) {
        validateUrl("url", url, allowedSchemes, addresses);
    }

    /** The checks of a repository URL, for the field {@code field} (messages name it). */
    private static void validateUrl(String field, String url, Set<String> allowedSchemes, AddressPolicy addresses) {
        boolean repository = field.equals("url");
        if (url.length() > MAX_URL_LENGTH) {
            throw new DomainException.InvalidRequest(
                    "The " + field + " is longer than " + MAX_URL_LENGTH + " characters.");
        }
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            throw new DomainException.InvalidRequest("The " + field + " is not a valid URL.");
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!allowedSchemes.contains(scheme)) {
            throw new DomainException.InvalidRequest("The " + field + " must use one of the schemes "
                    + String.join(", ", allowedSchemes) + " (got '" + scheme + "').");
        }
        if (uri.getHost() == null || uri.getHost().isBlank()) {
            throw new DomainException.InvalidRequest("The " + field + " has no host.");
        }
        if (uri.getPort() == 0 || uri.getPort() > 65535) {
            throw new DomainException.InvalidRequest("The " + field + "'s port must be from 1 to 65535.");
        }
        if (repository && (uri.getRawQuery() != null || uri.getRawFragment() != null)) {
            // the worker refuses them: git and the address check could read such a URL differently
            throw new DomainException.InvalidRequest(
                    "The url must not contain a query ('?') or a fragment ('#'): name the repository only.");
        }
        if (uri.getRawUserInfo() != null) {
            throw new DomainException.InvalidRequest(
                    repository
                            ? "The url must not contain credentials: only public repositories are supported."
                            : "The " + field + " must not contain credentials.");
        }
        // last: it may ask DNS
        addresses.refusal(uri).ifPresent(reason -> {
            throw new DomainException.InvalidRequest(
                    repository
                            ? Character.toUpperCase(reason.charAt(0)) + reason.substring(1) + "."
                            : "The " + field + " is refused: " + reason.replace("repositories", "callbacks") + ".");
        });
    }
}
