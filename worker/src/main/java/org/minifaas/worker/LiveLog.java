package org.minifaas.worker;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.minifaas.common.model.TaskStatus;
import org.minifaas.common.nats.TaskLogs;
import org.minifaas.common.nats.TaskLogs.Kind;
import org.minifaas.worker.sandbox.OutputListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The live log of one running task: the chunks its commands print become events of whole lines on {@link TaskLogs}
 * while they run, with the task's phases in order between them. An event holds the lines that came together (joined
 * by \n, without the last newline; the \r of \r\n dropped) up to {@link TaskLogs#MAX_EVENT_BYTES}; a line still
 * without its newline after {@link #PARTIAL_LINE_MS} is sent as it is. After {@code maxBytes} of output one last
 * stderr line says the rest is in the result files ({@code maxBytes} 0: no output events, phases only).
 *
 * <p>It never blocks or fails the task: the commands' capture threads only queue, a sender thread of its own
 * publishes without waiting for acknowledgements, and a failing NATS costs events (said once in the log), never the
 * run.
 */
final class LiveLog implements TaskExecutor.Progress, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(LiveLog.class);
    static final long PARTIAL_LINE_MS = 100;
    /** How long {@link #close} waits for the last events to be handed to NATS. */
    private static final long CLOSE_WAIT_MS = 2_000;

    private final TaskLogs logs;
    private final UUID taskId;
    private final long maxBytes;
    private final Thread sender;
    private final AtomicBoolean failed = new AtomicBoolean();
    // guarded by this
    private final ArrayDeque<Event> queue = new ArrayDeque<>();
    private final List<Lines> partial = new ArrayList<>();
    private long budget;
    private boolean truncated;
    private boolean closed;

    private LiveLog(TaskLogs logs, UUID taskId, long maxBytes) {
        this.logs = logs;
        this.taskId = taskId;
        this.maxBytes = maxBytes;
        this.budget = maxBytes;
        this.sender = new Thread(this::send, "live-log-" + taskId.toString().substring(0, 8));
        this.sender.setDaemon(true);
    }

    /** The live log of a task, at most {@code maxBytes} of output (LOG_MAX_BYTES). */
    static LiveLog start(TaskLogs logs, UUID taskId, long maxBytes) {
        LiveLog live = new LiveLog(logs, taskId, maxBytes);
        live.sender.start();
        return live;
    }

    /** One event to publish: output of one kind (more lines join it while it waits), or a phase. */
    private static final class Event {
        final Kind kind;
        final ByteArrayOutputStream data = new ByteArrayOutputStream();
        final String phase;

        Event(Kind kind, String phase) {
            this.kind = kind;
            this.phase = phase;
        }
    }

    /** What one pipe printed since its last newline. */
    private final class Lines implements OutputListener {
        final Kind kind;
        final ByteArrayOutputStream pending = new ByteArrayOutputStream();
        long since;

        Lines(Kind kind) {
            this.kind = kind;
        }

        @Override
        public void output(Stream stream, byte[] data, int offset, int length) {
            accept(this, data, offset, length);
        }
    }

    @Override
    public synchronized void phase(String phase) {
        flushAll();
        queue.add(new Event(Kind.STATUS, phase));
        notifyAll();
    }

    @Override
    public OutputListener buildOutput() {
        return listener(Kind.STDERR, Kind.STDERR);
    }

    @Override
    public OutputListener runOutput() {
        return listener(Kind.STDOUT, Kind.STDERR);
    }

    /** A listener for one command: each of its pipes gets a line buffer of its own. */
    private OutputListener listener(Kind out, Kind err) {
        Lines stdout = new Lines(out);
        Lines stderr = new Lines(err);
        return (stream, data, offset, length) ->
                (stream == OutputListener.Stream.STDOUT ? stdout : stderr).output(stream, data, offset, length);
    }

    private synchronized void accept(Lines lines, byte[] data, int offset, int length) {
        if (closed || truncated || maxBytes == 0) {
            return;
        }
        int end = offset + length;
        int i = offset;
        while (i < end && !truncated) {
            int newline = i;
            while (newline < end && data[newline] != '\n') {
                newline++;
            }
            while (i < newline && !truncated) {
                int n = Math.min(TaskLogs.MAX_EVENT_BYTES - lines.pending.size(), newline - i);
                if (lines.pending.size() == 0) {
                    lines.since = System.nanoTime();
                    partial.add(lines);
                }
                lines.pending.write(data, i, n);
                i += n;
                if (lines.pending.size() >= TaskLogs.MAX_EVENT_BYTES) {
                    flush(lines, false); // a line longer than an event: in pieces
                }
            }
            if (newline < end && !truncated) {
                byte[] line = take(lines, lines.pending.size());
                int n = line.length > 0 && line[line.length - 1] == '\r' ? line.length - 1 : line.length;
                emit(lines.kind, line, n);
                i = newline + 1;
            }
        }
        notifyAll();
    }

    /** Sends what a pipe printed without a newline yet: all of it, or up to its last whole character. */
    private void flush(Lines lines, boolean all) {
        byte[] b = lines.pending.toByteArray();
        int n = all ? b.length : wholeCharacters(b, b.length);
        if (n == 0) {
            lines.since = System.nanoTime(); // only the start of a character: wait for the rest
            return;
        }
        byte[] piece = take(lines, n);
        emit(lines.kind, piece, piece.length);
    }

    /** Removes the first {@code n} bytes of a pipe's pending output. */
    private byte[] take(Lines lines, int n) {
        byte[] b = lines.pending.toByteArray();
        lines.pending.reset();
        lines.pending.write(b, n, b.length - n);
        if (lines.pending.size() == 0) {
            partial.remove(lines);
        } else {
            lines.since = System.nanoTime();
        }
        byte[] head = new byte[n];
        System.arraycopy(b, 0, head, 0, n);
        return head;
    }

    private void flushAll() {
        for (Lines lines : List.copyOf(partial)) {
            flush(lines, true);
        }
    }

    /** Flushes the partial lines older than PARTIAL_LINE_MS; returns the nanoseconds until the next is due, or -1. */
    private long flushDue() {
        long now = System.nanoTime();
        long next = -1;
        for (Lines lines : List.copyOf(partial)) {
            long due = lines.since + TimeUnit.MILLISECONDS.toNanos(PARTIAL_LINE_MS) - now;
            if (due <= 0) {
                flush(lines, false);
            } else {
                next = next < 0 ? due : Math.min(next, due);
            }
        }
        return next;
    }

    /** Queues one line within the budget; the line that crosses it is cut, followed by the notice. */
    private void emit(Kind kind, byte[] raw, int rawLength) {
        if (truncated) {
            return;
        }
        // counted as published: text, where each byte that is not UTF-8 becomes U+FFFD (3 bytes)
        byte[] line = new String(raw, 0, rawLength, StandardCharsets.UTF_8).getBytes(StandardCharsets.UTF_8);
        int length = line.length;
        if (length + 1L > budget) {
            int kept = wholeCharacters(line, (int) Math.max(0, Math.min(length, budget - 1)));
            if (kept > 0) {
                append(kind, line, kept);
            }
            byte[] notice = ("[live log truncated at " + maxBytes + " bytes; the result files have the full output]")
                    .getBytes(StandardCharsets.UTF_8);
            append(Kind.STDERR, notice, notice.length);
            truncated = true;
            for (Lines lines : partial) {
                lines.pending.reset();
            }
            partial.clear();
            return;
        }
        budget -= length + 1L;
        append(kind, line, length);
    }

    /** Adds a line to the last queued event when of the same kind and it fits, else queues a new event. */
    private void append(Kind kind, byte[] line, int length) {
        Event last = queue.peekLast();
        if (last != null
                && last.kind == kind
                && last.phase == null
                && last.data.size() + 1 + length <= TaskLogs.MAX_EVENT_BYTES) {
            last.data.write('\n');
        } else {
            last = new Event(kind, null);
            queue.add(last);
        }
        last.data.write(line, 0, length);
    }

    /** The length of the longest prefix of {@code b[0, length)} that ends on a whole UTF-8 character. */
    static int wholeCharacters(byte[] b, int length) {
        int start = length;
        while (start > 0 && length - start < 3 && (b[start - 1] & 0xC0) == 0x80) {
            start--; // back over continuation bytes to the character's first byte
        }
        if (start == 0) {
            return length;
        }
        int lead = b[start - 1] & 0xFF;
        int size = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
        return length - (start - 1) >= size ? length : start - 1;
    }

    private void send() {
        while (true) {
            List<Event> batch;
            synchronized (this) {
                try {
                    while (queue.isEmpty()) {
                        long wait = flushDue();
                        if (!queue.isEmpty()) {
                            break;
                        }
                        if (closed) {
                            return;
                        }
                        if (wait < 0) {
                            wait();
                        } else {
                            TimeUnit.NANOSECONDS.timedWait(this, wait);
                        }
                    }
                } catch (InterruptedException e) {
                    return;
                }
                batch = new ArrayList<>(queue);
                queue.clear();
            }
            batch.forEach(this::publish);
        }
    }

    private void publish(Event event) {
        try {
            if (event.phase != null) {
                logs.status(taskId, TaskStatus.EXECUTING, event.phase);
            } else {
                logs.output(taskId, event.kind, event.data.toString(StandardCharsets.UTF_8))
                        .whenComplete((ack, e) -> {
                            if (e != null) {
                                failed(e);
                            }
                        });
            }
        } catch (Exception e) {
            failed(e);
        }
    }

    private void failed(Throwable e) {
        if (failed.compareAndSet(false, true)) {
            log.warn(
                    "task {}: live log events lost ({}); the result files keep the whole output", taskId, e.toString());
        }
    }

    /** Sends what is left (lines without their newline too), waiting a bounded time for the sender. */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            flushAll();
            closed = true;
            notifyAll();
        }
        try {
            sender.join(CLOSE_WAIT_MS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
