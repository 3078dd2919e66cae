package org.minifaas.worker.sandbox;

/**
 * Receives a command's output while it runs, chunk by chunk as read from its pipes (the capture into the
 * {@link Outcome} is unchanged by it).
 */
@FunctionalInterface
public interface OutputListener {
    /** The pipe a chunk was read from. */
    enum Stream {
        STDOUT,
        STDERR
    }

    OutputListener NONE = (stream, data, offset, length) -> {};

    /**
     * Called on the pipe's capture thread: returns quickly, and copies what it keeps ({@code data} is reused by the
     * next read). What it throws is ignored.
     */
    void output(Stream stream, byte[] data, int offset, int length);
}
