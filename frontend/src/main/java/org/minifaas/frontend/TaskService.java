package org.minifaas.frontend;

import io.nats.client.JetStreamApiException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.minifaas.common.model.Task;
import org.minifaas.common.model.TaskStatus;
import org.minifaas.common.nats.NatsLayer;
import org.minifaas.common.nats.QuotaExceededException;
import org.minifaas.common.nats.UserTasks;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The task API's logic: create, inspect and collect tasks of one user. Knows nothing of HTTP. */
public final class TaskService {
    private static final Logger log = LoggerFactory.getLogger(TaskService.class);
    /** The result files a zip may carry, in this order. */
    static final List<String> RESULT_FILES = List.of("stdout.txt", "stderr.txt", "error.txt");

    private final NatsLayer nats;

    public TaskService(NatsLayer nats) {
        this.nats = nats;
    }

    /** Stores the task as PENDING and enqueues it; a task that cannot be enqueued is not kept. */
    public UUID create(String userId, CreateTaskRequest request)
            throws IOException, JetStreamApiException, QuotaExceededException {
        UUID taskId = UUID.randomUUID();
        UserTasks tasks = nats.userTasks(userId);
        tasks.createPending(taskId);
        Task task = new Task(taskId, userId, request.url(), request.parameters());
        try {
            nats.taskQueue().publish(task);
        } catch (IOException | JetStreamApiException | RuntimeException first) {
            try {
                // the same message id: if the first attempt was stored after all, JetStream drops this one
                nats.taskQueue().publish(task);
            } catch (IOException | JetStreamApiException | RuntimeException e) {
                log.error("task {} could not be enqueued; removing it: {}", taskId, e.toString());
                try {
                    tasks.forget(taskId);
                } catch (IOException | JetStreamApiException | RuntimeException ignored) {
                    // its entry expires with the retention
                }
                throw new ApiException.Unavailable("The task queue is not available; nothing was stored, try again.");
            }
        }
        log.info("task {} created ({} parameters)", taskId, request.parameters().size());
        return taskId;
    }

    /** The status of one of the user's tasks; another user's task is as unknown as a missing one. */
    public TaskStatus status(String userId, UUID taskId) throws IOException, JetStreamApiException {
        Optional<UserTasks> tasks = nats.existingUserTasks(userId);
        if (tasks.isEmpty()) {
            throw new ApiException.TaskNotFound(taskId.toString());
        }
        return tasks.get().status(taskId).orElseThrow(() -> new ApiException.TaskNotFound(taskId.toString()));
    }

    public List<String> list(String userId) throws IOException, JetStreamApiException, InterruptedException {
        Optional<UserTasks> tasks = nats.existingUserTasks(userId);
        return tasks.isEmpty() ? List.of() : tasks.get().taskIds();
    }

    /** The zipped result files, or empty while the task has not finished. */
    public Optional<byte[]> resultZip(String userId, UUID taskId)
            throws IOException, JetStreamApiException, InterruptedException {
        TaskStatus status = status(userId, taskId);
        if (!status.isFinal()) {
            return Optional.empty();
        }
        Map<String, byte[]> files = nats.results(taskId).read().orElse(Map.of());
        if (files.isEmpty()) {
            files = Map.of("error.txt", "No result files were stored for this task.\n".getBytes(StandardCharsets.UTF_8));
        }
        return Optional.of(zip(files));
    }

    /** A flat zip of the known result files (no directories, no other names). */
    static byte[] zip(Map<String, byte[]> files) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(out)) {
            for (String name : RESULT_FILES) {
                byte[] content = files.get(name);
                if (content != null) {
                    zip.putNextEntry(new ZipEntry(name));
                    zip.write(content);
                    zip.closeEntry();
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}
