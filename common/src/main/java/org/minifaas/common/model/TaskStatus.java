package org.minifaas.common.model;

/** Lifecycle of a task, with the numeric codes of the original design. */
public enum TaskStatus {
    PENDING(100),
    EXECUTING(200),
    FINISHED(300),
    FINISHED_WITH_ERRORS(400),
    UNEXPECTED_ERROR(500);

    private final int code;

    TaskStatus(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    /** True once the task will not change any more and its results can be downloaded. */
    public boolean isFinal() {
        return this == FINISHED || this == FINISHED_WITH_ERRORS || this == UNEXPECTED_ERROR;
    }
}
