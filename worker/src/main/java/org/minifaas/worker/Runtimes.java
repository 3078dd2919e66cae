package org.minifaas.worker;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The runtimes this worker has, in the order a repository is recognised by: Go (main.go), Node.js (package.json),
 * Python (main.py). A task may name one ({@code runtime}); otherwise the first that recognises the repository runs
 * it.
 */
final class Runtimes {
    private final List<FunctionRuntime> runtimes;

    Runtimes(List<FunctionRuntime> runtimes) {
        this.runtimes = List.copyOf(runtimes);
    }

    /** The runtime, or why there is none. */
    record Selection(FunctionRuntime runtime, String failure) {}

    /** The runtime {@code requested} (null: recognised from the files in {@code src}). */
    Selection select(String requested, Path src) {
        if (requested != null) {
            return byName(requested)
                    .map(r -> new Selection(r, null))
                    .orElseGet(() -> new Selection(
                            null,
                            "unknown runtime '" + requested + "'; this worker runs "
                                    + runtimes.stream()
                                            .map(FunctionRuntime::name)
                                            .collect(Collectors.joining(", "))));
        }
        for (FunctionRuntime runtime : runtimes) {
            if (runtime.detect(src)) {
                return new Selection(runtime, null);
            }
        }
        return new Selection(
                null,
                "no function found: the repository root has no main.go (Go), package.json (Node.js) or main.py "
                        + "(Python)");
    }

    Optional<FunctionRuntime> byName(String name) {
        return runtimes.stream().filter(r -> r.name().equals(name)).findFirst();
    }

    /** What the runtimes would run with; a change (a toolchain installed, cgo turned on) changes it. */
    String fingerprint() {
        return CacheKeys.of(describe().toArray(String[]::new));
    }

    List<String> describe() {
        return runtimes.stream().map(FunctionRuntime::describe).toList();
    }
}
