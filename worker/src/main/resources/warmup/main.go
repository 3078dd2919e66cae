// Built by the worker at start, in its build sandbox, only to fill the shared Go build cache (GoBuilder.warm):
// the standard packages small functions use are then compiled once, not by every build.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math"
	"math/rand"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() {
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	b, _ := json.Marshal(map[string]any{"n": math.Sqrt(2), "t": time.Now(), "r": rand.Int()})
	s := strings.Fields(string(b))
	sort.Strings(s)
	sum := sha256.Sum256(bytes.Repeat(b, 2))
	fmt.Fprintln(w, strconv.Itoa(len(s)), base64.StdEncoding.EncodeToString(sum[:]), filepath.Base(os.Args[0]),
		regexp.MustCompile(`\d+`).MatchString("1"), errors.New("x"), flag.NArg(), syscall.Getpid())
	_, _ = io.Copy(io.Discard, strings.NewReader(""))
	var mu sync.Mutex
	mu.Lock()
	mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	_ = exec.CommandContext(ctx, "true")
	_, _ = net.LookupHost("localhost")
	_ = http.StatusOK
	log.SetFlags(0)
}
