package org.minifaas.frontend;

import io.javalin.http.BadRequestResponse;
import io.javalin.http.ContentTooLargeResponse;
import io.javalin.http.Context;
import io.javalin.http.UnsupportedMediaTypeResponse;
import io.javalin.http.UploadedFile;
import java.io.IOException;
import java.io.InputStream;
import java.util.Locale;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;

/** Reading requests: the caller's identity, bodies within their limits, ids and numbers from the URL. */
final class Requests {
    static final String IDENTITY = "identity";
    /** Beyond this a refused body is not read: the connection is closed instead. */
    static final long DRAIN_LIMIT = 16L * 1024 * 1024;

    private Requests() {}

    /** The identity the access filter read. */
    static Identity identity(Context ctx) {
        return ctx.attribute(IDENTITY);
    }

    static String userId(Context ctx) {
        return identity(ctx).userId();
    }

    /** The original API's {@code ?taskId=}. */
    static UUID taskIdQuery(Context ctx) {
        String raw = query(ctx, "taskId");
        if (raw == null || raw.isBlank()) {
            throw new BadRequestResponse("Query parameter 'taskId' is required.");
        }
        return uuid(raw.trim())
                .orElseThrow(() -> new BadRequestResponse("Query parameter 'taskId' must be a task id (UUID)."));
    }

    private static final Pattern CANONICAL_UUID =
            Pattern.compile("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");

    /** A task id in its one written form (UUID.fromString also reads "1-1-1-1-1" as 00000001-0001-...). */
    static Optional<UUID> uuid(String raw) {
        return CANONICAL_UUID.matcher(raw).matches() ? Optional.of(UUID.fromString(raw)) : Optional.empty();
    }

    /** The v1 API's {@code /v1/tasks/{id}}. */
    static UUID taskIdPath(Context ctx) {
        return uuid(ctx.pathParam("id"))
                .orElseThrow(() -> new BadRequestResponse("Path parameter 'id' must be a task id (UUID)."));
    }

    /** An optional whole-number query parameter within [min, max]. */
    static int intQuery(Context ctx, String name, int defaultValue, int min, int max) {
        String raw = query(ctx, name);
        if (raw == null) {
            return defaultValue;
        }
        String digits = raw.trim();
        try {
            // ASCII digits only: Integer.parseInt also reads other scripts' digits ("٥" is 5)
            int value = digits.matches("-?[0-9]{1,10}") ? Integer.parseInt(digits) : Integer.MIN_VALUE;
            if (value >= min && value <= max) {
                return value;
            }
        } catch (NumberFormatException e) {
            // answered below
        }
        throw new BadRequestResponse(
                "Query parameter '" + name + "' must be a whole number from " + min + " to " + max + ".");
    }

    /**
     * A query parameter, or null when the query does not name it. One the server could not decode ({@code limit=%zz})
     * is dropped by Jetty as if absent: that is a 400 here, not the default.
     */
    static String query(Context ctx, String name) {
        String value = ctx.queryParam(name);
        String raw = ctx.queryString();
        if (value == null && raw != null) {
            for (String pair : raw.split("&")) {
                if (pair.equals(name) || pair.startsWith(name + "=")) {
                    throw new BadRequestResponse("Query parameter '" + name + "' is not valid URL encoding.");
                }
            }
        }
        return value;
    }

    /** A task is sent as JSON (charset parameters allowed); a browser form cannot, without CORS, send that type. */
    static void requireJson(Context ctx) {
        String type = ctx.contentType() == null ? "" : ctx.contentType();
        if (!type.split(";", 2)[0].trim().toLowerCase(Locale.ROOT).equals("application/json")) {
            drain(ctx);
            throw new UnsupportedMediaTypeResponse(
                    "Send the task as JSON, with the header Content-Type: application/json.");
        }
    }

    /**
     * Reads at most {@code limit} bytes; a longer body (declared or chunked) is refused with 413, one that cannot
     * be read (bad chunking, cut short) with 400.
     */
    static byte[] readBody(Context ctx, int limit) {
        long declared = ctx.req().getContentLengthLong();
        if (declared > limit) {
            drain(ctx);
            throw tooLarge("Request body", limit);
        }
        try (InputStream in = ctx.req().getInputStream()) {
            byte[] body = in.readNBytes(limit + 1);
            if (body.length > limit) {
                drain(ctx);
                throw tooLarge("Request body", limit);
            }
            return body;
        } catch (IOException e) {
            // the client's fault, not NATS's: without this, the IOException mapping would answer 503
            throw new BadRequestResponse("The request body could not be read.");
        }
    }

    static ContentTooLargeResponse tooLarge(String what, long limit) {
        return new ContentTooLargeResponse(what + " too large: the limit is " + limit + " bytes.");
    }

    /**
     * Reads and discards a refused body (up to {@link #DRAIN_LIMIT}), so that the client, still sending it,
     * receives the error instead of a reset connection.
     */
    static void drain(Context ctx) {
        // the server may close this connection once the refusal is sent (a body it did not read): say so, so that a
        // client does not send its next request on it
        ctx.header("Connection", "close");
        try (InputStream in = ctx.req().getInputStream()) {
            byte[] buf = new byte[8192];
            long read = 0;
            int n;
            while (read < DRAIN_LIMIT && (n = in.read(buf)) >= 0) {
                read += n;
            }
        } catch (IOException e) {
            // the client went away: nothing to answer
        }
    }

    /** The multipart field 'file'; a body that is not multipart, or is cut short, is a bad request. */
    static UploadedFile uploadedFile(Context ctx, long limit) {
        String type = ctx.contentType();
        if (type == null || !type.toLowerCase(Locale.ROOT).startsWith("multipart/form-data")) {
            return null;
        }
        try {
            return ctx.uploadedFile("file");
        } catch (Exception e) {
            // Jetty reports a bad or oversized multipart body as a (wrapped) BadMessageException with a status
            for (Throwable t = e; t != null; t = t.getCause()) {
                String message = String.valueOf(t.getMessage()).toLowerCase(Locale.ROOT);
                if (message.contains("413") || message.contains("exceed") || message.contains("too large")) {
                    throw tooLarge("File", limit);
                }
            }
            throw new BadRequestResponse("Malformed multipart body.");
        }
    }
}
