// Smoke test function for the sandbox's private /tmp (a tmpfs capped at FUNCTION_TMP_MB):
//   fill ID   leaves /tmp/marker-ID, then writes up to 3 GB to /tmp/fill-ID and prints where it was refused
//             ("refused after N MiB: <error>"), or "wrote 3000 MiB: no cap" and exit code 3;
//   check     lists /tmp: "tmp empty", or "tmp has: <names>" and exit code 4.
package main

import (
	"fmt"
	"os"
	"strings"
)

func main() {
	if len(os.Args) >= 3 && os.Args[1] == "fill" {
		fill(os.Args[2])
		return
	}
	if len(os.Args) >= 2 && os.Args[1] == "check" {
		entries, err := os.ReadDir("/tmp")
		if err != nil {
			fmt.Printf("cannot list /tmp: %v\n", err)
			os.Exit(4)
		}
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		if len(names) == 0 {
			fmt.Println("tmp empty")
			return
		}
		fmt.Printf("tmp has: %s\n", strings.Join(names, " "))
		os.Exit(4)
	}
	fmt.Println("usage: fill ID | check")
	os.Exit(2)
}

func fill(id string) {
	if err := os.WriteFile("/tmp/marker-"+id, []byte(id), 0o644); err != nil {
		fmt.Printf("cannot write the marker: %v\n", err)
		os.Exit(5)
	}
	f, err := os.Create("/tmp/fill-" + id)
	if err != nil {
		fmt.Printf("cannot create /tmp/fill-%s: %v\n", id, err)
		os.Exit(5)
	}
	block := make([]byte, 1<<20)
	for i := range block {
		block[i] = byte(i)
	}
	for mib := 0; mib < 3000; mib++ {
		if _, err := f.Write(block); err != nil {
			fmt.Printf("refused after %d MiB: %v\n", mib, err)
			return
		}
	}
	fmt.Println("wrote 3000 MiB: no cap")
	os.Exit(3)
}
