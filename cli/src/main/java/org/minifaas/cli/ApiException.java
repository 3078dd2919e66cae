package org.minifaas.cli;

/** A failure to report in one line with exit code 5: the server said no, or could not be reached. */
final class ApiException extends RuntimeException {
    private final int httpStatus;

    ApiException(String message, int httpStatus) {
        super(message);
        this.httpStatus = httpStatus;
    }

    ApiException(String message) {
        this(message, 0);
    }

    /** The HTTP status of the refusal, 0 when there was no answer. */
    int httpStatus() {
        return httpStatus;
    }
}
