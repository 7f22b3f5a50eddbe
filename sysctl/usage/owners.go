package usage

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// Owners names the processes that hold listeners: a socket's inode is in
// the link target of the process's file descriptor ("socket:[INODE]" under
// /proc/PID/fd). Walking every descriptor of every process is the costly
// part, so Owners remembers what it found, and what it could not find, per
// inode: a listener keeps its inode while it lives, and a scan walks
// /proc only when a new one appears. Its zero value is ready to use.
type Owners struct {
	// Proc is the proc file system's root; "" means /proc.
	Proc string

	mu    sync.Mutex
	known map[uint64]owner
}

type owner struct {
	process string
	pid     int
}

func (o *Owners) proc() string {
	if o.Proc == "" {
		return "/proc"
	}
	return o.Proc
}

// Name fills in Process and PID of each listener in ls whose holder it can
// find. Without permission to read another user's descriptors (portpanel
// not running as root) those stay unnamed: an error only when /proc itself
// cannot be read.
func (o *Owners) Name(ctx context.Context, ls []Listener) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	next := make(map[uint64]owner, len(ls))
	want := map[uint64]bool{}
	for _, l := range ls {
		if l.Inode == 0 {
			continue
		}
		if w, ok := o.known[l.Inode]; ok {
			next[l.Inode] = w
		} else {
			want[l.Inode] = true
		}
	}
	var err error
	if len(want) > 0 {
		err = o.walk(ctx, want, next)
		for ino := range want { // not found: do not walk again for it
			if _, ok := next[ino]; !ok {
				next[ino] = owner{}
			}
		}
	}
	// Only the inodes of this scan are kept, so the memory stays the
	// size of the listener set.
	o.known = next
	for i := range ls {
		w := next[ls[i].Inode]
		ls[i].Process, ls[i].PID = w.process, w.pid
	}
	return err
}

// walk finds the processes holding the inodes in want and adds them to
// found. The first process found holding a socket names it: a listener
// shared after fork() is held by parent and children alike, and /proc
// lists the parent (a lower PID) first in most cases.
func (o *Owners) walk(ctx context.Context, want map[uint64]bool, found map[uint64]owner) error {
	entries, err := os.ReadDir(o.proc())
	if err != nil {
		return fmt.Errorf("name listeners' processes: %w", err)
	}
	left := len(want)
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid <= 0 {
			continue
		}
		if ctx.Err() != nil {
			return fmt.Errorf("name listeners' processes: %w", ctx.Err())
		}
		fdDir := filepath.Join(o.proc(), e.Name(), "fd")
		fds, err := os.ReadDir(fdDir)
		if err != nil {
			continue // gone, or not ours to read
		}
		for _, fd := range fds {
			ino, ok := socketInode(filepath.Join(fdDir, fd.Name()))
			if !ok || !want[ino] {
				continue
			}
			if _, done := found[ino]; done {
				continue
			}
			found[ino] = owner{process: o.comm(e.Name()), pid: pid}
			if left--; left == 0 {
				return nil
			}
		}
	}
	return nil
}

// socketInode reads a descriptor link "socket:[12345]".
func socketInode(link string) (uint64, bool) {
	target, err := os.Readlink(link)
	if err != nil || !strings.HasPrefix(target, "socket:[") || !strings.HasSuffix(target, "]") {
		return 0, false
	}
	n, err := strconv.ParseUint(target[len("socket:["):len(target)-1], 10, 64)
	return n, err == nil
}

// comm is a process's name as the kernel keeps it (at most 15 bytes).
func (o *Owners) comm(pid string) string {
	b, err := os.ReadFile(filepath.Join(o.proc(), pid, "comm"))
	if err != nil {
		return ""
	}
	return string(bytes.TrimSpace(b))
}
