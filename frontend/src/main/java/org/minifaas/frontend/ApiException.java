package org.minifaas.frontend;

/**
 * The errors a request can end in, each with its HTTP status; mapped once to a JSON
 * {@code {"error": ...}} body in {@link FrontendApp}.
 */
public class ApiException extends RuntimeException {
    private final int status;

    protected ApiException(int status, String message) {
        super(message);
        this.status = status;
    }

    public int status() {
        return status;
    }

    public static final class InvalidRequest extends ApiException {
        public InvalidRequest(String message) {
            super(400, message);
        }
    }

    public static final class Unauthorized extends ApiException {
        public Unauthorized() {
            super(401, "Not authenticated: no X-Forwarded-User header (requests must come through oauth2-proxy).");
        }
    }

    public static final class Forbidden extends ApiException {
        public Forbidden() {
            super(403, "This endpoint is for administrators only.");
        }
    }

    public static final class TaskNotFound extends ApiException {
        public TaskNotFound(String taskId) {
            super(404, "Task " + taskId + " not found.");
        }
    }

    public static final class PayloadTooLarge extends ApiException {
        public PayloadTooLarge(long limit) {
            this("Request body", limit);
        }

        public PayloadTooLarge(String what, long limit) {
            super(413, what + " too large: the limit is " + limit + " bytes.");
        }
    }

    public static final class Unavailable extends ApiException {
        public Unavailable(String message) {
            super(503, message);
        }
    }
}
