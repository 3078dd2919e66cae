package org.minifaas.worker;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.minifaas.common.model.TaskStatus;

/** The end of a task: its final status, the files to store and a one-line reason for the log. */
public record Execution(TaskStatus status, Map<String, byte[]> files, String reason) {

    /** FINISHED_WITH_ERRORS with what was printed and the reason in error.txt. */
    static Execution failed(byte[] stdout, byte[] stderr, String reason) {
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("stdout.txt", stdout);
        files.put("stderr.txt", stderr);
        files.put("error.txt", line(reason));
        return new Execution(TaskStatus.FINISHED_WITH_ERRORS, files, reason);
    }

    static Execution failed(String reason) {
        return failed(new byte[0], new byte[0], reason);
    }

    static Execution finished(byte[] stdout, byte[] stderr) {
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("stdout.txt", stdout);
        files.put("stderr.txt", stderr);
        return new Execution(TaskStatus.FINISHED, files, "exit code 0");
    }

    private static byte[] line(String s) {
        return (s + "\n").getBytes(StandardCharsets.UTF_8);
    }
}
