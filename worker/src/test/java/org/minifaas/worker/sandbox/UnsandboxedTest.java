package org.minifaas.worker.sandbox;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class UnsandboxedTest {
    final SandboxCommand command = new SandboxCommand(
            List.of(),
            Optional.empty(),
            List.of(
                    Mount.readOnly(Path.of("/host/tasks/1/src"), "/task/src"),
                    Mount.readOnly(Path.of("/host/bin/abc"), "/task/function")),
            "/task/src",
            Map.of(),
            Network.NONE,
            new Limits(1, 1, 8, 1, 1),
            Duration.ZERO,
            0);

    @Test
    void pathsInsideTheSandboxBecomeTheMountsHostPaths() {
        assertEquals("/host/tasks/1/src", Unsandboxed.translate("/task/src", command));
        assertEquals("/host/tasks/1/src/main.go", Unsandboxed.translate("/task/src/main.go", command));
        assertEquals("/host/bin/abc", Unsandboxed.translate("/task/function", command));
        assertEquals("/task/srcx", Unsandboxed.translate("/task/srcx", command));
        assertEquals("hello", Unsandboxed.translate("hello", command));
    }
}
