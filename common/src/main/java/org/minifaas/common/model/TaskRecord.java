package org.minifaas.common.model;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Objects;
import java.util.UUID;

/**
 * The execution record of a task: its value in the owner's task bucket, written once per state change (created,
 * started, ended, cancelled, callback delivered). Times are ISO-8601 UTC strings; fields not known yet are null.
 *
 * @param id           the task id
 * @param status       where it stands
 * @param url          the repository
 * @param ref          the ref asked for (null: the default branch)
 * @param commit       the commit id actually run (known once cloned)
 * @param parameters   the function's arguments
 * @param timeoutSeconds the task's own run limit (0: the worker's)
 * @param createdAt    accepted by the frontend
 * @param startedAt    taken by a worker (the latest attempt)
 * @param finishedAt   reached a final status
 * @param queueMs      startedAt - createdAt
 * @param cloneMs      time to fetch the source (0 when skipped)
 * @param buildMs      time to build, or to find the binary in the cache
 * @param runMs        the function's own run
 * @param exitCode     the function's exit status (null: it did not run or was killed)
 * @param binaryCached whether the build was skipped because the binary was cached
 * @param attempts     deliveries of the task to workers so far
 * @param workerId     the worker of the latest attempt
 * @param error        the one-line reason of a failure, null when FINISHED
 * @param callback     the webhook and its delivery state (null: none asked)
 * @param cloneSkipped whether the run used a known commit's cached binary and source without cloning (null: not
 *                     reached)
 * @param runtime      the runtime asked for (go, node, python), then the one that ran it (null: recognised once
 *                     cloned)
 * @param toolchain    the toolchain or interpreter that built or ran the function: go1.23.5, node20.19.2,
 *                     python3.11.2 (null: none chosen yet)
 */
public record TaskRecord(
        UUID id,
        TaskStatus status,
        String url,
        String ref,
        String commit,
        List<String> parameters,
        int timeoutSeconds,
        String createdAt,
        String startedAt,
        String finishedAt,
        Long queueMs,
        Long cloneMs,
        Long buildMs,
        Long runMs,
        Integer exitCode,
        Boolean binaryCached,
        int attempts,
        String workerId,
        String error,
        Callback callback,
        Boolean cloneSkipped,
        String runtime,
        String toolchain) {

    public TaskRecord {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(status, "status");
        parameters = parameters == null ? List.of() : List.copyOf(parameters);
    }

    /** The numeric status code of the original API. */
    @JsonProperty("code")
    public int code() {
        return status.code();
    }

    /** A webhook and how its delivery went. */
    public record Callback(String url, DeliveryState state, int attempts, String lastError, String deliveredAt) {
        public static Callback pending(String url) {
            return new Callback(url, DeliveryState.PENDING, 0, null, null);
        }
    }

    /** PENDING until the task ends and the sender tries; DELIVERED on a 2xx; FAILED when the retries are used up. */
    public enum DeliveryState {
        PENDING,
        RETRYING,
        DELIVERED,
        FAILED
    }

    /** The record of a task just accepted. */
    public static TaskRecord pending(Task task) {
        return new TaskRecord(
                task.taskId(),
                TaskStatus.PENDING,
                task.repoUrl(),
                task.ref(),
                null,
                task.parameters(),
                task.timeoutSeconds(),
                task.createdAt() == null ? now() : task.createdAt(),
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                0,
                null,
                null,
                task.callbackUrl() == null ? null : Callback.pending(task.callbackUrl()),
                null,
                task.runtime(),
                null);
    }

    /** A bare record for a status stored by an older version (a plain status name): only the id and status. */
    public static TaskRecord legacy(UUID id, TaskStatus status) {
        return new TaskRecord(
                id, status, null, null, null, List.of(), 0, null, null, null, null, null, null, null, null, null, 0,
                null, null, null, null, null, null);
    }

    /** Taken by worker {@code workerId} for delivery {@code attempt}: EXECUTING, the previous attempt's end cleared. */
    public TaskRecord started(String workerId, int attempt) {
        String at = now();
        return change(r -> {
            r.status = TaskStatus.EXECUTING;
            r.startedAt = at;
            r.finishedAt = null;
            r.queueMs = between(createdAt, at);
            r.cloneMs = null;
            r.buildMs = null;
            r.runMs = null;
            r.exitCode = null;
            r.binaryCached = null;
            r.attempts = attempt;
            r.workerId = workerId;
            r.error = null;
            r.cloneSkipped = null;
            r.toolchain = null;
        });
    }

    /** Handed back (the worker stopped mid-task): PENDING again. */
    public TaskRecord requeued() {
        return withStatus(TaskStatus.PENDING);
    }

    /** What a run found out, in one write with the final status. */
    public TaskRecord finished(
            TaskStatus finalStatus,
            String commitId,
            Long clone,
            Long build,
            Long run,
            Integer exit,
            Boolean cached,
            String reason) {
        return withRunFacts(commitId, clone, build, run, exit, cached).change(r -> {
            r.status = finalStatus;
            r.finishedAt = now();
            r.error = reason;
        });
    }

    /** What a run found out, added to a record that is final already (cancelled while it ran): status kept. */
    public TaskRecord withRunFacts(String commitId, Long clone, Long build, Long run, Integer exit, Boolean cached) {
        return change(r -> {
            r.commit = commitId;
            r.cloneMs = clone;
            r.buildMs = build;
            r.runMs = run;
            r.exitCode = exit;
            r.binaryCached = cached;
        });
    }

    /** Whether the run skipped the clone (a known commit, its binary and source cached). */
    public TaskRecord withCloneSkipped(Boolean value) {
        return change(r -> r.cloneSkipped = value);
    }

    /** With the runtime that ran it and the toolchain or interpreter it was built or run with. */
    public TaskRecord withRuntime(String runtimeName, String toolchainLabel) {
        return change(r -> {
            r.runtime = runtimeName == null ? runtime : runtimeName;
            r.toolchain = toolchainLabel;
        });
    }

    /** Cancelled by its owner now. */
    public TaskRecord cancelled(String reason) {
        return change(r -> {
            r.status = TaskStatus.CANCELLED;
            r.finishedAt = now();
            r.error = reason;
        });
    }

    public TaskRecord withStatus(TaskStatus value) {
        return change(r -> {
            r.status = value;
            r.finishedAt = value.isFinal() ? (finishedAt == null ? now() : finishedAt) : null;
        });
    }

    public TaskRecord withCallback(Callback value) {
        return change(r -> r.callback = value);
    }

    /** A copy with {@code edit} applied: the one place a record is copied field by field. */
    private TaskRecord change(java.util.function.Consumer<Fields> edit) {
        Fields f = new Fields(this);
        edit.accept(f);
        return f.record();
    }

    /** A record's fields, to change some of them in a copy. */
    private static final class Fields {
        final UUID id;
        TaskStatus status;
        final String url;
        final String ref;
        String commit;
        final List<String> parameters;
        final int timeoutSeconds;
        final String createdAt;
        String startedAt;
        String finishedAt;
        Long queueMs;
        Long cloneMs;
        Long buildMs;
        Long runMs;
        Integer exitCode;
        Boolean binaryCached;
        int attempts;
        String workerId;
        String error;
        Callback callback;
        Boolean cloneSkipped;
        String runtime;
        String toolchain;

        Fields(TaskRecord r) {
            id = r.id;
            status = r.status;
            url = r.url;
            ref = r.ref;
            commit = r.commit;
            parameters = r.parameters;
            timeoutSeconds = r.timeoutSeconds;
            createdAt = r.createdAt;
            startedAt = r.startedAt;
            finishedAt = r.finishedAt;
            queueMs = r.queueMs;
            cloneMs = r.cloneMs;
            buildMs = r.buildMs;
            runMs = r.runMs;
            exitCode = r.exitCode;
            binaryCached = r.binaryCached;
            attempts = r.attempts;
            workerId = r.workerId;
            error = r.error;
            callback = r.callback;
            cloneSkipped = r.cloneSkipped;
            runtime = r.runtime;
            toolchain = r.toolchain;
        }

        TaskRecord record() {
            return new TaskRecord(
                    id,
                    status,
                    url,
                    ref,
                    commit,
                    parameters,
                    timeoutSeconds,
                    createdAt,
                    startedAt,
                    finishedAt,
                    queueMs,
                    cloneMs,
                    buildMs,
                    runMs,
                    exitCode,
                    binaryCached,
                    attempts,
                    workerId,
                    error,
                    callback,
                    cloneSkipped,
                    runtime,
                    toolchain);
        }
    }

    /** Now, ISO-8601 UTC with milliseconds. */
    public static String now() {
        return Instant.now().truncatedTo(ChronoUnit.MILLIS).toString();
    }

    /** When the record was created, for ordering (EPOCH for legacy records). */
    @JsonIgnore
    public Instant createdInstant() {
        return createdAt == null ? Instant.EPOCH : Instant.parse(createdAt);
    }

    private static Long between(String from, String to) {
        if (from == null || to == null) {
            return null;
        }
        return Math.max(
                0, Duration.between(Instant.parse(from), Instant.parse(to)).toMillis());
    }
}
