package netns

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"portpanel/sysctl"
	"portpanel/sysctl/usage"
)

// Reasons a namespace was not read, as the pages say them.
const (
	reasonSetns = "portpanel may not enter it: joining a network namespace (setns) needs CAP_SYS_ADMIN, " +
		"which the shipped portpanel.service does not grant (README, “Network namespaces”)."
	reasonOpen = "portpanel may not open its namespace through /proc/PID/ns/net: that needs CAP_SYS_PTRACE " +
		"(README, “Network namespaces”)."
	reasonGone = "Its processes exited before portpanel could enter it."
)

// reading is what one namespace says about itself.
type reading struct {
	kernel   sysctl.KernelState
	initial  bool
	usage    *usage.Snapshot
	usageErr error
}

// readHere reads the namespace the calling thread is in: /proc/sys/net
// and sock_diag answer for the reader's namespace, and procNet must be
// the calling thread's view (/proc/thread-self/net) when the thread has
// entered another one. scan false skips the socket scan.
func (s Scanner) readHere(ctx context.Context, procNet string, scan bool, at time.Time) (reading, error) {
	st, err := sysctl.Kernel{ProcSys: s.procSys()}.Read()
	if err != nil {
		return reading{}, err
	}
	r := reading{kernel: st, initial: isInitial(s.procSys())}
	if scan {
		snap, _, err := usage.Reader{ProcNet: procNet}.Take(ctx, st, at)
		if err != nil {
			r.usageErr = err
		} else {
			r.usage = &snap
		}
	}
	return r, nil
}

func (ns *Namespace) apply(r reading) {
	k := r.kernel
	ns.Kernel, ns.Initial, ns.Usage = &k, r.initial, r.usage
	if r.usageErr != nil {
		ns.UsageError = "Could not read its sockets: " + r.usageErr.Error()
	}
}

// readOwn reads portpanel's own namespace, where it runs already.
func (s Scanner) readOwn(ctx context.Context, ns *Namespace, at time.Time) {
	own, haveOwn := usage.Snapshot{}, false
	if s.OwnUsage != nil {
		own, haveOwn = s.OwnUsage()
	}
	r, err := s.readHere(ctx, filepath.Join(s.proc(), "net"), !haveOwn, at)
	if err != nil {
		ns.Error = "portpanel could not read its own namespace's settings: " + err.Error()
		return
	}
	if haveOwn {
		r.usage = &own
	}
	ns.apply(r)
}

// enter reads ns from inside it, through one of its /run/netns files or
// else one of its processes: the first that is still there.
func (s Scanner) enter(ctx context.Context, ns *Namespace, pids []int, at time.Time) {
	via := append([]string(nil), ns.Paths...)
	for _, pid := range pids {
		via = append(via, filepath.Join(s.proc(), strconv.Itoa(pid), "ns", "net"))
	}
	for _, path := range via {
		f, err := os.Open(path)
		if gone(err) {
			continue
		} else if errors.Is(err, fs.ErrPermission) {
			ns.Error = reasonOpen
			return
		} else if err != nil {
			ns.Error = "portpanel could not open its namespace: " + err.Error()
			return
		}
		// The PID may have been reused, or the process may have moved
		// to another namespace, since the walk.
		var st syscall.Stat_t
		if syscall.Fstat(int(f.Fd()), &st) != nil || st.Ino != ns.Inode {
			f.Close()
			continue
		}
		var r reading
		var rerr error
		err = within(f, func() { r, rerr = s.readHere(ctx, "/proc/thread-self/net", true, at) })
		f.Close()
		switch {
		case errors.Is(err, syscall.EPERM):
			ns.Error = reasonSetns
		case err != nil:
			ns.Error = "portpanel could not enter it: " + err.Error()
		case rerr != nil:
			ns.Error = "portpanel entered it but could not read its settings: " + rerr.Error()
		default:
			ns.apply(r)
		}
		return
	}
	ns.Error = reasonGone
}

// within runs fn on an OS thread moved into the network namespace target
// (an open /proc/PID/ns/net or /run/netns file), then moves the thread
// back. Only that thread changes namespace: the thread is locked to this
// goroutine throughout, so no other goroutine runs there. If it cannot
// go back, it stays locked, and the runtime ends the thread with the
// goroutine instead of reusing it.
func within(target *os.File, fn func()) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("open this thread's network namespace: %w", err)
			return
		}
		defer orig.Close()
		// CLONE_NEWNET, not 0: the kernel then refuses any other kind of
		// namespace, and systemd's RestrictNamespaces=net filter allows
		// setns only with the type named.
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("setns: %w", err)
			return
		}
		fn()
		if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("return to portpanel's network namespace: %w", err)
			return // still locked: the thread exits with this goroutine
		}
		runtime.UnlockOSThread()
		errc <- nil
	}()
	return <-errc
}

// limits says what the scan could not see, from portpanel's capabilities.
func (s Scanner) limits(sc Scan, namespaces int) []string {
	var out []string
	caps, err := effectiveCaps(s.proc())
	if err == nil && caps&(1<<capSysPtrace) == 0 {
		out = append(out, "portpanel runs without CAP_SYS_PTRACE, so it sees only the processes it may inspect: "+
			"the namespaces of all others are missing from this list (README, “Network namespaces”, says how to grant it).")
	}
	if err == nil && caps&(1<<capSysAdmin) == 0 && namespaces > 1 {
		out = append(out, "portpanel runs without CAP_SYS_ADMIN, so it cannot enter the other namespaces to read their range and sockets.")
	}
	switch {
	case sc.Unreadable == 1:
		out = append(out, "1 process's network namespace could not be read (permission denied).")
	case sc.Unreadable > 1:
		out = append(out, strconv.Itoa(sc.Unreadable)+" processes' network namespaces could not be read (permission denied).")
	}
	return out
}
