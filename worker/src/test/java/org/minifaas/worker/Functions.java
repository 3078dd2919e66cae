package org.minifaas.worker;

import java.util.Map;

/** Go functions used by the tests: no module dependencies, so no module proxy is needed. */
final class Functions {
    private Functions() {}

    static final String GO_MOD = "module example.com/fn\n\ngo 1.19\n";

    static Map<String, String> program(String main) {
        return Map.of("go.mod", GO_MOD, "main.go", main);
    }

    /** Prints each argument on its own line as index:value. */
    static final Map<String, String> ECHO = program("""
            package main

            import (
            \t"fmt"
            \t"os"
            )

            func main() {
            \tfor i, a := range os.Args[1:] {
            \t\tfmt.Printf("%d:%s\\n", i, a)
            \t}
            }
            """);

    static final Map<String, String> EXIT_3 = program("""
            package main

            import (
            \t"fmt"
            \t"os"
            )

            func main() {
            \tfmt.Println("before the failure")
            \tfmt.Fprintln(os.Stderr, "something went wrong")
            \tos.Exit(3)
            }
            """);

    /** Starts `sleep <arg>` as a child, prints both pids, then never ends. */
    static final Map<String, String> ENDLESS_WITH_CHILD = program("""
            package main

            import (
            \t"fmt"
            \t"os"
            \t"os/exec"
            \t"time"
            )

            func main() {
            \tchild := exec.Command("sleep", os.Args[1])
            \tif err := child.Start(); err != nil {
            \t\tfmt.Println("no child:", err)
            \t\tos.Exit(1)
            \t}
            \tfmt.Println(os.Getpid(), child.Process.Pid)
            \tfor {
            \t\ttime.Sleep(100 * time.Millisecond)
            \t}
            }
            """);

    /** Prints its uid and HOME, and whether it could read the file named by its argument. */
    static final Map<String, String> WHOAMI = program("""
            package main

            import (
            \t"fmt"
            \t"os"
            )

            func main() {
            \tfmt.Printf("uid=%d\\n", os.Getuid())
            \tfmt.Printf("home=%s\\n", os.Getenv("HOME"))
            \tfmt.Printf("nats=%s\\n", os.Getenv("NATS_SERVER_ADDRESS"))
            \tif _, err := os.ReadFile(os.Args[1]); err != nil {
            \t\tfmt.Println("secret=denied")
            \t} else {
            \t\tfmt.Println("secret=READ")
            \t}
            }
            """);

    /** Sleeps for the seconds of its argument, then prints done. */
    static final Map<String, String> SLOW = program("""
            package main

            import (
            \t"fmt"
            \t"os"
            \t"strconv"
            \t"time"
            )

            func main() {
            \tn, _ := strconv.Atoi(os.Args[1])
            \ttime.Sleep(time.Duration(n) * time.Second)
            \tfmt.Println("done")
            }
            """);

    /**
     * Sleeps for the seconds of its first argument with a child `sleep <second argument>` beside it (a marker the
     * host can see), then prints done.
     */
    static final Map<String, String> SLOW_WITH_CHILD = program("""
            package main

            import (
            \t"fmt"
            \t"os"
            \t"os/exec"
            \t"strconv"
            \t"time"
            )

            func main() {
            \tn, _ := strconv.Atoi(os.Args[1])
            \tchild := exec.Command("sleep", os.Args[2])
            \t_ = child.Start()
            \ttime.Sleep(time.Duration(n) * time.Second)
            \t_ = child.Process.Kill()
            \t_ = child.Wait()
            \tfmt.Println("done")
            }
            """);

    /** Tries to start as many children (`sleep 30`) as its argument says, prints how many started. */
    static final Map<String, String> FORK_MANY = program("""
            package main

            import (
            \t"fmt"
            \t"os"
            \t"os/exec"
            \t"strconv"
            )

            func main() {
            \tn, _ := strconv.Atoi(os.Args[1])
            \tstarted := 0
            \tfor i := 0; i < n; i++ {
            \t\tif err := exec.Command("sleep", "30").Start(); err == nil {
            \t\t\tstarted++
            \t\t}
            \t}
            \tfmt.Printf("started=%d\\n", started)
            }
            """);

    /** Starts `sleep <arg>` in a session of its own (out of the function's process group), then exits. */
    static final Map<String, String> ESCAPE_TO_NEW_SESSION = program("""
            package main

            import (
            \t"fmt"
            \t"os"
            \t"os/exec"
            \t"syscall"
            )

            func main() {
            \tchild := exec.Command("sleep", os.Args[1])
            \tchild.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
            \tif err := child.Start(); err != nil {
            \t\tfmt.Println("no child:", err)
            \t\tos.Exit(1)
            \t}
            \tfmt.Println(child.Process.Pid)
            }
            """);

    /** Tries to write a file into the folder of its argument; prints its GOCACHE and the outcome. */
    static final Map<String, String> WRITE_INTO = program("""
            package main

            import (
            \t"fmt"
            \t"os"
            \t"path/filepath"
            )

            func main() {
            \tfmt.Printf("gocache=%s\\n", os.Getenv("GOCACHE"))
            \tif err := os.WriteFile(filepath.Join(os.Args[1], "poison"), []byte("x"), 0o644); err != nil {
            \t\tfmt.Println("write=denied")
            \t} else {
            \t\tfmt.Println("write=ok")
            \t}
            }
            """);

    /** Waits two seconds (so that two tasks overlap), then prints its uid. */
    static final Map<String, String> SLOW_UID = program("""
            package main

            import (
            \t"fmt"
            \t"os"
            \t"time"
            )

            func main() {
            \ttime.Sleep(2 * time.Second)
            \tfmt.Printf("uid=%d\\n", os.Getuid())
            }
            """);

    static final Map<String, String> NO_MAIN = Map.of("go.mod", GO_MOD, "README.md", "nothing to run\n");

    static final Map<String, String> DOES_NOT_COMPILE = program("package main\n\nfunc main() { undefined() }\n");

    /** Prints {@code text} and a newline. */
    static Map<String, String> printing(String text) {
        return program("""
                package main

                import "fmt"

                func main() {
                \tfmt.Println("%s")
                }
                """.formatted(text));
    }

    /**
     * Prints "line N at T" (T: Unix time in milliseconds) for N from 0 to its argument - 1, one line every 100 ms,
     * on stdout, and "warning N" on stderr for every fifth.
     */
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
            \t\tfmt.Printf("line %d at %d\\n", i, time.Now().UnixMilli())
            \t\tif i%5 == 0 {
            \t\t\tfmt.Fprintf(os.Stderr, "warning %d\\n", i)
            \t\t}
            \t\ttime.Sleep(100 * time.Millisecond)
            \t}
            }
            """);
}
