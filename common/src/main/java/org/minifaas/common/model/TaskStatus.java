package org.minifaas.common.model;

import java.util.Arrays;
import java.util.Optional;

/** Lifecycle of a task, with the numeric codes of the original design (CANCELLED is MiniFaaS's own). */
public enum TaskStatus {
    PENDING(100),
    EXECUTING(200),
    FINISHED(300),
    FINISHED_WITH_ERRORS(400),
    UNEXPECTED_ERROR(500),
    /** Cancelled by its owner (DELETE /v1/tasks/{id}): it never ran, or its run was killed. */
    CANCELLED(600);

    private final int code;

    TaskStatus(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    /** True once the task will not change any more and its results can be downloaded. */
    public boolean isFinal() {
        return this != PENDING && this != EXECUTING;
    }

    /** The status named {@code name} (as in the API, case-insensitive), or empty. */
    public static Optional<TaskStatus> parse(String name) {
        return Arrays.stream(values())
                .filter(s -> s.name().equalsIgnoreCase(name))
                .findFirst();
    }
}
