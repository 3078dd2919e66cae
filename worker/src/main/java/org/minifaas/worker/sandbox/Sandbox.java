package org.minifaas.worker.sandbox;

import java.io.IOException;
import java.util.List;

/**
 * Where the worker runs code it did not write: {@code go mod download}, {@code go build} and the function.
 * Each {@link #run} is a fresh, isolated environment that ends, with everything started in it, when the
 * command ends or its time is up.
 */
public interface Sandbox extends AutoCloseable {

    Outcome run(SandboxCommand command) throws IOException, InterruptedException;

    /** Whether commands are isolated at all ({@code SANDBOX=off} is not). */
    boolean isolated();

    /** Whether {@link Network#EGRESS} is available (else such commands get {@link Network#NONE}). */
    boolean egress();

    /** Which mechanism enforces each property and limit, one line each, for the start log. */
    List<String> describe();

    /** What is missing here compared with a root worker on a host with writable cgroups, one line each. */
    List<String> warnings();

    @Override
    void close();
}
