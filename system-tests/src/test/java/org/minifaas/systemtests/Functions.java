package org.minifaas.systemtests;

import java.util.Map;

/** Go functions of the system tests: no module dependencies, so no module proxy is needed. */
final class Functions {
    private Functions() {}

    static final String GO_MOD = "module example.com/fn\n\ngo 1.19\n";

    static Map<String, String> program(String main) {
        return Map.of("go.mod", GO_MOD, "main.go", main);
    }

    /** Prints {@code text} and its arguments. */
    static Map<String, String> says(String text) {
        return program("""
                package main

                import (
                \t"fmt"
                \t"os"
                )

                func main() {
                \tfmt.Println("%s", os.Args[1:])
                }
                """.formatted(text));
    }

    /** Prints "line <i>" every 100 ms, as many times as its first argument says. */
    static final Map<String, String> TICKER = program("""
            package main

            import (
            \t"fmt"
            \t"os"
            \t"strconv"
            \t"time"
            )

            func main() {
            \tn, _ := strconv.Atoi(os.Args[1])
            \tfor i := 0; i < n; i++ {
            \t\tfmt.Println("line", i)
            \t\ttime.Sleep(100 * time.Millisecond)
            \t}
            }
            """);

    /** Starts a child shell that sleeps (its command line carries the marker argument), says so, and sleeps. */
    static final Map<String, String> SLEEPER = program("""
            package main

            import (
            \t"fmt"
            \t"os"
            \t"os/exec"
            \t"time"
            )

            func main() {
            \tchild := exec.Command("/bin/sh", "-c", "sleep 120; : "+os.Args[1])
            \tif err := child.Start(); err != nil {
            \t\tfmt.Println("no child:", err)
            \t}
            \tfmt.Println("started")
            \ttime.Sleep(120 * time.Second)
            }
            """);
}
