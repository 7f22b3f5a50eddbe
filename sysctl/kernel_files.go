package sysctl

import (
	"sync"
	"sync/atomic"
	"syscall"
	"time"
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
//
// The range is kept for up to RangeMaxAge, so requests arriving together
// share one read, and the two settings that only constrain it for up to
// SettingsMaxAge: they change about never, and formatting
// ip_local_reserved_ports walks a 65,536-bit bitmap, the dearest read of
// the three. A writer of the kernel calls Wrote once it is done, and no
// value read before that is handed out again.
type KernelFiles struct {
	k      Kernel
	procfs bool
	mu     sync.Mutex
	fds    map[string]int
	// RangeMaxAge bounds how old the range may be, SettingsMaxAge the
	// unprivileged port start and the reserved ports; 0 reads them every
	// time. A setting is never younger than the range it came with.
	RangeMaxAge, SettingsMaxAge time.Duration
	settingsAt, rangeAt         time.Time
	state                       KernelState
	// writes counts Wrote calls; state holds what was read when it was
	// stateWrites.
	writes      atomic.Uint64
	stateWrites uint64
}

// procSuperMagic is PROC_SUPER_MAGIC from linux/magic.h.
const procSuperMagic = 0x9fa0

// Files returns a reader of k's files that keeps them open; Close closes them.
func (k Kernel) Files() *KernelFiles {
	var fs syscall.Statfs_t
	procfs := syscall.Statfs(k.ProcSys, &fs) == nil && fs.Type == procSuperMagic
	return &KernelFiles{k: k, procfs: procfs, fds: map[string]int{}}
}

// Read is Kernel.Read, with the range up to RangeMaxAge old and the other
// settings up to SettingsMaxAge old, unless Wrote was called since.
func (f *KernelFiles) Read() (KernelState, error) {
	// Loaded before reading: a write landing during the read makes what
	// it read count as older than it is, never newer.
	writes := f.writes.Load()
	f.mu.Lock()
	now := time.Now()
	same := f.stateWrites == writes
	fresh := func(at time.Time, maxAge time.Duration) bool {
		return same && maxAge > 0 && !at.IsZero() && now.Sub(at) < maxAge
	}
	st, rangeFresh, settingsFresh := f.state, fresh(f.rangeAt, f.RangeMaxAge), fresh(f.settingsAt, f.SettingsMaxAge)
	f.mu.Unlock()
	switch {
	case rangeFresh && settingsFresh:
		return st, nil
	case !settingsFresh:
		st, err := f.k.readState(f.read)
		if err == nil {
			f.keep(st, writes, now, true)
		}
		return st, err
	}
	s, err := f.read(rangeFile)
	if err != nil {
		return KernelState{}, err
	}
	if st.Range, err = parseRange(s); err != nil {
		return KernelState{}, err
	}
	f.keep(st, writes, now, false)
	return st, nil
}

// Wrote says the kernel's values may have changed: the next Read reads
// them afresh.
func (f *KernelFiles) Wrote() { f.writes.Add(1) }

// keep stores st, read at or after now when writes was the Wrote count,
// unless a read started later has stored its own already. Without
// settings it stores only the range: Read reads the range alone only when
// the settings kept were read at the same count.
func (f *KernelFiles) keep(st KernelState, writes uint64, now time.Time, settings bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if writes < f.stateWrites || (writes == f.stateWrites && now.Before(f.rangeAt)) {
		return
	}
	f.state.Range, f.rangeAt, f.stateWrites = st.Range, now, writes
	if settings {
		f.state, f.settingsAt = st, now
	}
}

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
			// Never closed while in use (only Close does, at the end), so
			// an error is the file's: read it afresh.
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

// Close closes the files kept open; no Read may run at the same time or
// after.
func (f *KernelFiles) Close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for name, fd := range f.fds {
		syscall.Close(fd)
		delete(f.fds, name)
	}
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
