package org.minifaas.frontend;

import java.util.UUID;
import org.minifaas.common.model.TaskStatus;

/**
 * What a request can go wrong on, as the services see it (they know nothing of HTTP). {@link FrontendApp} maps each
 * type once to its status and a JSON {@code {"error": ...}} body; the quota's QuotaExceededException comes from
 * common. Failures that are HTTP's own (401, 403, 413, 415...) are Javalin's response exceptions instead.
 */
abstract class DomainException extends RuntimeException {

    protected DomainException(String message) {
        super(message);
    }

    /** A body, parameter or header that cannot be accepted (400). */
    public static final class InvalidRequest extends DomainException {
        public InvalidRequest(String message) {
            super(message);
        }
    }

    /** Unknown, expired, or another user's task: the same answer for all three (404). */
    public static final class TaskNotFound extends DomainException {
        public TaskNotFound(UUID taskId) {
            super("Task " + taskId + " not found.");
        }
    }

    /** A result file the task did not produce, or a name that is not a result file (404). */
    public static final class FileNotFound extends DomainException {
        public FileNotFound(UUID taskId, String name) {
            super("Task " + taskId + " has no file '" + name + "'.");
        }
    }

    /** Cancelling a task that has already ended (409). */
    public static final class TaskAlreadyFinal extends DomainException {
        public TaskAlreadyFinal(UUID taskId, TaskStatus status) {
            super("Task " + taskId + " has already ended (" + status + "): there is nothing to cancel.");
        }
    }

    /** Asking for the results of a task that is still queued or running (409 on the v1 API). */
    public static final class TaskNotFinished extends DomainException {
        public TaskNotFinished(UUID taskId, TaskStatus status) {
            super("Task " + taskId + " has not finished yet (" + status + ").");
        }
    }

    /** A part of the system that the request needs is down; nothing was stored (503). */
    public static final class Unavailable extends DomainException {
        public Unavailable(String message) {
            super(message);
        }
    }

    /** One user holds their share of a kind of held request (log streams, waiting reads) already (429, Retry-After). */
    public static final class TooManyForUser extends DomainException {
        public TooManyForUser(String message) {
            super(message);
        }
    }

    /** Too many requests of a kind are being held open already (503, with Retry-After). */
    public static final class Busy extends DomainException {
        public Busy(String message) {
            super(message);
        }
    }
}
