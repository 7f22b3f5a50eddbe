package sysctl

import (
	"sync"
	"syscall"
)

// KernelFiles reads what Kernel.Read reads, keeping the files open between
// reads. Opening a /proc/sys file walks the kernel's sysctl tables and
// costs ten times the read (about 12 µs of CPU against 1.1 µs with pread
// here), and every page and API request shows the three values: opened each
// time, they cost GET /api/v1/range its throughput target (BENCHMARKS.md).
// A kept file shows the value in force at each read: /proc/sys files have
// no stale content to cache, and a network namespace's values stay bound
// to the namespace of the process that opened them, which portpanel never
// leaves.
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

// Files returns a reader of k's files that keeps them open for as long as
// the process runs.
func (k Kernel) Files() *KernelFiles {
	var fs syscall.Statfs_t
	procfs := syscall.Statfs(k.ProcSys, &fs) == nil && fs.Type == procSuperMagic
	return &KernelFiles{k: k, procfs: procfs, fds: map[string]int{}}
}

// Read is Kernel.Read through the kept files.
func (f *KernelFiles) Read() (KernelState, error) { return f.k.readState(f.read) }

func (f *KernelFiles) read(name string) (string, error) {
	if !f.procfs {
		return f.k.read(name)
	}
	// No lock held during the read: under load, requests queued behind
	// one in a system call left CPUs idle. pread needs no shared offset.
	f.mu.Lock()
	fd, ok := f.fds[name]
	if !ok {
		var err error
		if fd, err = openRetry(f.k.path(name)); err != nil {
			f.mu.Unlock()
			// Not kept: k.read reports the error, or reads a file that
			// came back.
			return f.k.read(name)
		}
		f.fds[name] = fd
	}
	f.mu.Unlock()
	s, err := readWhole(func(b []byte, off int64) (int, error) {
		for {
			n, err := syscall.Pread(fd, b, off)
			if err != syscall.EINTR {
				return n, err
			}
		}
	})
	if err != nil {
		// A kept file is never closed, so an error is the file's: read
		// it afresh.
		return f.k.read(name)
	}
	return s, nil
}

// openRetry opens p for KernelFiles without the network poller os.Open
// tries, which a /proc file cannot join.
func openRetry(p string) (int, error) {
	for {
		fd, err := syscall.Open(p, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err != syscall.EINTR {
			return fd, err
		}
	}
}
