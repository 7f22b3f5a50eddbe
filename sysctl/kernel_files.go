package sysctl

import (
	"sync"
	"syscall"
)

// KernelFiles reads what Kernel.Read reads, keeping the files open between
// reads. Opening a /proc/sys file walks the kernel's sysctl tables and
// costs five times a read (6 µs against 1.2 µs here), and every page and
// API request shows the running range. A kept file shows the value in
// force at each read: /proc/sys files have no stale content to cache, and
// a network namespace's values stay bound to the namespace of the process
// that opened them, which portpanel never leaves.
//
// Only a real procfs is kept open: under a plain directory (tests, a copy)
// a file replaced by rename would keep showing its old content.
type KernelFiles struct {
	k      Kernel
	procfs bool
	mu     sync.Mutex
	fds    map[string]int
}

// procSuperMagic is PROC_SUPER_MAGIC from linux/magic.h.
const procSuperMagic = 0x9fa0

// Files returns a reader of k's files that keeps them open; Close closes them.
func (k Kernel) Files() *KernelFiles {
	var fs syscall.Statfs_t
	procfs := syscall.Statfs(k.ProcSys, &fs) == nil && fs.Type == procSuperMagic
	return &KernelFiles{k: k, procfs: procfs, fds: map[string]int{}}
}

// Read is Kernel.Read.
func (f *KernelFiles) Read() (KernelState, error) { return f.k.readState(f.read) }

func (f *KernelFiles) read(name string) (string, error) {
	if !f.procfs {
		return f.k.read(name)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	fd, ok := f.fds[name]
	if !ok {
		var err error
		if fd, err = openRetry(f.k.path(name)); err != nil {
			// Not kept: k.read reports the error, or reads a file that
			// came back.
			return f.k.read(name)
		}
		f.fds[name] = fd
	}
	var small [256]byte
	buf := small[:0]
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := syscall.Pread(fd, buf[len(buf):cap(buf)], int64(len(buf)))
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			syscall.Close(fd)
			delete(f.fds, name)
			return f.k.read(name)
		}
		room := cap(buf) - len(buf)
		buf = buf[:len(buf)+n]
		// A sysctl handler formats the whole value into a read large
		// enough for it, so a short read is the end: this saves the
		// second pread that would return 0.
		if n == 0 || n < room {
			return string(buf), nil
		}
	}
}

// Close closes the files kept open.
func (f *KernelFiles) Close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for name, fd := range f.fds {
		syscall.Close(fd)
		delete(f.fds, name)
	}
}
