// Smoke test function: tries a TCP connection to each host:port argument (2 s each) and prints one line per
// target: "connected host:port" or "refused host:port: <error>". In the worker's sandbox (loopback only, in a
// network namespace of its own) every attempt must fail, the worker container's own 127.0.0.1 included.
package main

import (
	"fmt"
	"net"
	"os"
	"time"
)

func main() {
	connected := 0
	for _, target := range os.Args[1:] {
		c, err := net.DialTimeout("tcp", target, 2*time.Second)
		if err != nil {
			fmt.Printf("refused %s: %v\n", target, err)
			continue
		}
		connected++
		fmt.Printf("connected %s (local %s)\n", target, c.LocalAddr())
		c.Close()
	}
	fmt.Printf("connections: %d of %d\n", connected, len(os.Args)-1)
}
