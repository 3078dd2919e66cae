package org.minifaas.cli;

/** The process exit codes of every command (docs/CLI.md, "Exit codes"). */
final class ExitCodes {
    static final int OK = 0;
    /** FINISHED_WITH_ERRORS without an exit code of its own: clone or build failure, time limit, out of memory. */
    static final int FAILED = 1;
    /** Bad arguments (picocli's own code). */
    static final int USAGE = 2;

    static final int UNEXPECTED_ERROR = 3;
    static final int CANCELLED = 4;
    /** The server refused the request or could not be reached. */
    static final int SERVER_ERROR = 5;
    /** Ctrl-C while following: 128 + SIGINT, as a shell reports it. */
    static final int INTERRUPTED = 130;

    private ExitCodes() {}

    static boolean isFinal(String status) {
        return switch (status) {
            case "FINISHED", "FINISHED_WITH_ERRORS", "UNEXPECTED_ERROR", "CANCELLED" -> true;
            default -> false;
        };
    }

    /** The exit code for a task that ended with {@code status}; {@code exitCode} is its function's, null if none. */
    static int forTask(String status, Integer exitCode) {
        return switch (status) {
            case "FINISHED" -> OK;
            // an exit status is 1..255 on Linux; anything else (a signal, a kill) is just "failed"
            case "FINISHED_WITH_ERRORS" -> exitCode != null && exitCode > 0 && exitCode < 256 ? exitCode : FAILED;
            case "UNEXPECTED_ERROR" -> UNEXPECTED_ERROR;
            case "CANCELLED" -> CANCELLED;
            default -> throw new IllegalArgumentException("not a final status: " + status);
        };
    }
}
