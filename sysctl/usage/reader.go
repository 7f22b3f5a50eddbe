package usage

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"time"

	"portpanel/sysctl"
)

// Reader reads the sockets of the network namespace this process runs in
// (sock_diag and /proc/net both answer for the caller's namespace only).
type Reader struct {
	// ProcNet is the /proc/net directory used by the fallback and by
	// Totals; "" means "/proc/net".
	ProcNet string
	// NoNetlink skips sock_diag and reads ProcNet directly.
	NoNetlink bool
}

func (r Reader) procNet() string {
	if r.ProcNet == "" {
		return "/proc/net"
	}
	return r.ProcNet
}

// Sockets lists every TCP and UDP socket, IPv4 and IPv6. It asks the
// kernel over netlink sock_diag first: at 50,000 sockets the binary dump
// takes 45-55 ms where the kernel formatting /proc/net text and Go
// parsing it take 110-150 ms (BenchmarkScan). If netlink fails (no
// inet_diag module, a seccomp filter) it parses
// ProcNet/{tcp,tcp6,udp,udp6} and says so in the returned Source; the
// netlink error is returned only if that fails too. Neither path lists TCP sockets that are bound but
// neither listening nor connected (see diagAllStates).
//
// The context is checked between dumps; a single dump cannot be
// interrupted.
func (r Reader) Sockets(ctx context.Context) ([]Socket, Source, error) {
	var nlErr error
	if !r.NoNetlink {
		socks, err := r.netlinkSockets(ctx)
		if err == nil {
			return socks, SourceNetlink, nil
		}
		if ctx.Err() != nil {
			return nil, "", fmt.Errorf("read sockets: %w", ctx.Err())
		}
		nlErr = err
	}
	socks, err := r.procSockets(ctx)
	if err != nil {
		return nil, "", errors.Join(nlErr, err)
	}
	return socks, SourceProc, nil
}

func (r Reader) procSockets(ctx context.Context) ([]Socket, error) {
	out := r.presized(ctx)
	for _, t := range []struct{ file, proto string }{{"tcp", TCP}, {"tcp6", TCP}, {"udp", UDP}, {"udp6", UDP}} {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("read sockets: %w", err)
		}
		var err error
		out, err = readTable(filepath.Join(r.procNet(), t.file), t.proto, out)
		// A kernel booted with ipv6.disable=1 has no tcp6 or udp6 file.
		if err != nil && !(errors.Is(err, fs.ErrNotExist) && t.file[len(t.file)-1] == '6') {
			return nil, err
		}
	}
	return out, nil
}

// presized returns an empty slice with room for the sockets the kernel's
// counters announce, plus some for those opened meanwhile: growing a
// slice of 50,000 sockets copies it over and over, and that garbage was a
// third of the netlink scan's time. Without counters it returns nil.
func (r Reader) presized(ctx context.Context) []Socket {
	st, err := r.Totals(ctx)
	if err != nil {
		return nil
	}
	n := st.TCP + st.TCP6 + st.TimeWait + st.UDP + st.UDP6
	return make([]Socket, 0, n+n/16+64)
}

// Take reads the sockets and computes a snapshot under st. It returns the
// sockets too, so a caller that keeps the latest sample can answer
// ImpactOf without another scan.
func (r Reader) Take(ctx context.Context, st sysctl.KernelState, at time.Time) (Snapshot, []Socket, error) {
	socks, src, err := r.Sockets(ctx)
	if err != nil {
		return Snapshot{}, nil, err
	}
	snap, err := Compute(socks, st, at)
	if err != nil {
		return Snapshot{}, nil, err
	}
	snap.Source = src
	return snap, socks, nil
}
