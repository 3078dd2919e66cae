package org.minifaas.common.model;

import java.util.List;
import java.util.UUID;

/** What a finished run left behind: the names of its result files and how long it took. */
public record Result(UUID taskId, TaskStatus status, List<String> files, long elapsedMillis) {
    public Result {
        files = files == null ? List.of() : List.copyOf(files);
    }
}
