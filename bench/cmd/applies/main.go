// Command applies times change.Service.Apply, the whole pipeline (record
// the intent, kernel write and read-back, fsync'd atomic file, audit row),
// over -n changes, and prints n, p50_ms and p99_ms. It writes the kernel,
// so it refuses to run outside a private network namespace: bench/run.sh
// starts it under `unshare -n`. The config tree and the database live in a
// temp dir.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"portpanel/auth"
	"portpanel/change"
	"portpanel/db"
	"portpanel/sysctl"
	"portpanel/sysctl/usage"
)

func main() {
	n := flag.Int("n", 200, "changes to apply")
	root := flag.String("root", "", "config root with the managed file at etc/sysctl.d/90-portpanel.conf (default: an empty temp dir)")
	dbPath := flag.String("db", "", "database (default: a new one in a temp dir)")
	flag.Parse()
	if err := run(*n, *root, *dbPath); err != nil {
		fmt.Fprintln(os.Stderr, "applies:", err)
		os.Exit(1)
	}
}

func run(n int, root, dbPath string) error {
	if err := checkPrivateNetns(); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "portpanel-applies-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if root == "" {
		root = tmp
	}
	if dbPath == "" {
		dbPath = filepath.Join(tmp, "applies.db")
	}
	ctx := context.Background()
	d, err := db.Open(ctx, dbPath)
	if err != nil {
		return err
	}
	defer d.Close()
	svc := &change.Service{Kernel: sysctl.Kernel{ProcSys: "/proc/sys"}, Config: sysctl.Config{Root: root},
		Reader: sysctl.ReaderSystemd, File: filepath.Join(root, "etc/sysctl.d/90-portpanel.conf"), DB: d,
		Now: time.Now, Sockets: usage.Reader{ProcNet: "/proc/net"}}
	actor := change.Actor{ID: 1, Name: "bench", Role: auth.RoleAdmin}
	took := make([]time.Duration, 0, n)
	for i := range n {
		// Alternate between two ranges so every apply really writes.
		req := change.Request{Low: 32768 - 2*((i+1)%2), High: 60999, Reason: fmt.Sprintf("bench apply %d", i), Actor: actor}
		t := time.Now()
		c, err := svc.Apply(ctx, req)
		took = append(took, time.Since(t))
		if err != nil {
			return fmt.Errorf("apply %d: %w", i, err)
		}
		if c.Status != db.StatusApplied {
			return fmt.Errorf("apply %d: status %s: %s", i, c.Status, c.Error)
		}
	}
	slices.Sort(took)
	at := func(p int) float64 {
		return float64(took[min(n-1, (n*p+99)/100-1)]) / float64(time.Millisecond)
	}
	fmt.Printf("applies=%d p50_ms=%.3f p99_ms=%.3f\n", n, at(50), at(99))
	return nil
}

// checkPrivateNetns refuses to write the kernel of the host's network
// namespace: pid 1's, or (pid 1 hidden) the initial one, whose fixed inode
// recent kernels give (PROC_NET_INIT_INO).
func checkPrivateNetns() error {
	own, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		return err
	}
	if init1, err := os.Readlink("/proc/1/ns/net"); (err == nil && own == init1) || own == "net:[4026531833]" {
		return fmt.Errorf("refusing to write the kernel in the host's network namespace (%s): run under `unshare -n`", own)
	}
	return nil
}
