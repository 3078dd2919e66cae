package org.minifaas.common.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;
import java.util.Objects;
import java.util.UUID;

/**
 * A request to run the Go function of a public Git repository with string parameters: the message on the task
 * queue.
 *
 * @param ref            branch, tag or full commit id to run instead of the default branch (null: default branch)
 * @param timeoutSeconds the task's own run limit, at most the worker's (0: the worker's)
 * @param callbackUrl    where the record is POSTed when the task ends (null: nowhere)
 * @param createdAt      when it was accepted, ISO-8601 UTC (null for tasks queued by older frontends)
 * @param runtime        the runtime asked for, one of {@link #RUNTIMES} (null: recognised from the repository)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Task(
        UUID taskId,
        String userId,
        String repoUrl,
        List<String> parameters,
        String ref,
        int timeoutSeconds,
        String callbackUrl,
        String createdAt,
        String runtime) {
    /** The runtimes a task may ask for. */
    public static final List<String> RUNTIMES = List.of("go", "node", "python");

    public Task {
        Objects.requireNonNull(taskId, "taskId");
        Objects.requireNonNull(userId, "userId");
        Objects.requireNonNull(repoUrl, "repoUrl");
        parameters = parameters == null ? List.of() : List.copyOf(parameters);
        if (timeoutSeconds < 0) {
            throw new IllegalArgumentException("timeoutSeconds must not be negative");
        }
    }

    /** A task whose runtime is recognised from its repository. */
    public Task(
            UUID taskId,
            String userId,
            String repoUrl,
            List<String> parameters,
            String ref,
            int timeoutSeconds,
            String callbackUrl,
            String createdAt) {
        this(taskId, userId, repoUrl, parameters, ref, timeoutSeconds, callbackUrl, createdAt, null);
    }

    /** A task of the original API: default branch, the worker's time limit, no callback. */
    public Task(UUID taskId, String userId, String repoUrl, List<String> parameters) {
        this(taskId, userId, repoUrl, parameters, null, 0, null, null, null);
    }
}
