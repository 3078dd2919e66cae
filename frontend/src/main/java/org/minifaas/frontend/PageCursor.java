package org.minifaas.frontend;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Base64;
import java.util.Comparator;
import java.util.UUID;
import org.minifaas.common.model.TaskRecord;

/**
 * A position in a user's task list, which is ordered newest first: {@code createdAt} descending, then the id (as
 * text) ascending. Sent to clients as an opaque string: base64url of {@code <createdAt>|<id>}.
 */
record PageCursor(Instant createdAt, String id) {
    static final Comparator<TaskRecord> NEWEST_FIRST = Comparator.comparing(
                    TaskRecord::createdInstant, Comparator.reverseOrder())
            .thenComparing(r -> r.id().toString());

    static PageCursor of(TaskRecord record) {
        return new PageCursor(record.createdInstant(), record.id().toString());
    }

    /** Whether {@code record} comes after this position in the list. */
    boolean precedes(TaskRecord record) {
        int byTime = createdAt.compareTo(record.createdInstant());
        return byTime != 0 ? byTime > 0 : id.compareTo(record.id().toString()) < 0;
    }

    String encode() {
        return Base64.getUrlEncoder()
                .withoutPadding()
                .encodeToString((createdAt + "|" + id).getBytes(StandardCharsets.UTF_8));
    }

    /** A cursor a page gave out; anything else is an invalid request. */
    static PageCursor decode(String text) {
        try {
            String plain = new String(Base64.getUrlDecoder().decode(text), StandardCharsets.UTF_8);
            int bar = plain.indexOf('|');
            if (bar < 0) {
                throw new IllegalArgumentException("no separator");
            }
            String id = UUID.fromString(plain.substring(bar + 1)).toString();
            return new PageCursor(Instant.parse(plain.substring(0, bar)), id);
        } catch (IllegalArgumentException | DateTimeParseException e) {
            throw new DomainException.InvalidRequest(
                    "Query parameter 'cursor' is not valid: send the nextCursor of the previous page as it is.");
        }
    }
}
