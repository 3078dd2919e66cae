// Smoke test function: allocates and touches 2 GiB (64 MiB at a time, every page written), printing its
// progress. In the worker's sandbox it must be stopped by the memory limit (FUNCTION_MEMORY_MB, 512 by default)
// long before the end; "allocated 2048 MiB" would mean there is no limit.
package main

import (
	"fmt"
	"os"
)

func main() {
	const chunk = 64 << 20
	var kept [][]byte
	for total := 0; total < 2048; total += 64 {
		b := make([]byte, chunk)
		for i := 0; i < len(b); i += 4096 {
			b[i] = 1
		}
		kept = append(kept, b)
		if (total+64)%256 == 0 {
			fmt.Printf("allocated %d MiB\n", total+64)
		}
	}
	fmt.Printf("allocated 2048 MiB in %d chunks: no memory limit\n", len(kept))
	os.Exit(0)
}
