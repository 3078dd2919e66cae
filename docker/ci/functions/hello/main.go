// The function the container smoke test runs: prints the uid it runs as and its arguments.
// "sleep N" as the first two arguments keeps it busy for N seconds (the scale-up step).
package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

func main() {
	args := os.Args[1:]
	fmt.Printf("uid=%d\n", os.Getuid())
	fmt.Printf("args=%s\n", strings.Join(args, "|"))
	if len(args) >= 2 && args[0] == "sleep" {
		if n, err := strconv.Atoi(args[1]); err == nil {
			time.Sleep(time.Duration(n) * time.Second)
		}
	}
	fmt.Fprintln(os.Stderr, "done")
}
