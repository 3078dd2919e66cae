package org.minifaas.common.model;

import java.util.List;
import java.util.Objects;
import java.util.UUID;

/** A request to run the Go function of a public Git repository with string parameters. */
public record Task(UUID taskId, String userId, String repoUrl, List<String> parameters) {
    public Task {
        Objects.requireNonNull(taskId, "taskId");
        Objects.requireNonNull(userId, "userId");
        Objects.requireNonNull(repoUrl, "repoUrl");
        parameters = parameters == null ? List.of() : List.copyOf(parameters);
    }
}
