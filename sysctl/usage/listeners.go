package usage

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"path/filepath"
	"syscall"

	"github.com/vishvananda/netlink/nl"

	"portpanel/sysctl"
)

// Listener is a port a service holds for others to reach: a listening TCP
// socket, or a bound UDP socket with no peer. connect() skips such a port
// while it is held, but nothing stops an outgoing connection from taking
// it while the service is down, and then the service's bind() fails with
// EADDRINUSE (README, "Collisions").
type Listener struct {
	Proto string // TCP or UDP
	Local netip.AddrPort
	// Inode is the socket's inode: a process's /proc/PID/fd link to it
	// reads "socket:[Inode]". 0 when the kernel did not say.
	Inode uint64
	// Process and PID hold it, once Owners.Name found them; "" and 0
	// when it could not (no permission, or it was gone by then).
	Process string
	PID     int
}

// States asked of sock_diag: TCP_LISTEN for TCP; TCP_CLOSE for UDP, the
// state of a UDP socket that is bound but not connected (a connected one
// is ESTABLISHED, a client).
const (
	diagListen    = 1 << 10
	diagUnconnect = 1 << 7
)

// Listeners lists the namespace's listening TCP sockets and bound,
// unconnected UDP sockets, IPv4 and IPv6, with their inodes; sock_diag
// first, /proc/net as the fallback (as Sockets). A UDP socket whose port
// lies inside rng is left out: bind(0), or a sendto() on an unbound
// socket, takes its port from the range, so such a port is a client's,
// not a service's, and it changes every time (a UDP service bound inside
// the range itself is missed; TCP listeners are not, listen() without a
// bind being rare).
func (r Reader) Listeners(ctx context.Context, rng sysctl.Range) ([]Listener, Source, error) {
	var out []Listener
	src := SourceNetlink
	var nlErr error
	if !r.NoNetlink {
		out, nlErr = netlinkListeners(ctx)
	}
	if r.NoNetlink || nlErr != nil {
		if err := ctx.Err(); err != nil {
			return nil, "", fmt.Errorf("read listeners: %w", err)
		}
		var err error
		if out, err = r.procListeners(); err != nil {
			return nil, "", errors.Join(nlErr, err)
		}
		src = SourceProc
	}
	kept := out[:0]
	for _, l := range out {
		if p := int(l.Local.Port()); l.Proto == UDP && p >= rng.Low && p <= rng.High {
			continue
		}
		kept = append(kept, l)
	}
	return kept, src, nil
}

func netlinkListeners(ctx context.Context) ([]Listener, error) {
	var out []Listener
	for _, q := range []struct {
		family, protocol uint8
		states           uint32
	}{
		{syscall.AF_INET, syscall.IPPROTO_TCP, diagListen}, {syscall.AF_INET6, syscall.IPPROTO_TCP, diagListen},
		{syscall.AF_INET, syscall.IPPROTO_UDP, diagUnconnect}, {syscall.AF_INET6, syscall.IPPROTO_UDP, diagUnconnect},
	} {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("read listeners: %w", err)
		}
		var err error
		if out, err = diagListeners(q.family, q.protocol, q.states, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// diagListeners appends the sockets of one family and protocol in states
// to out. idiag_inode is the last u32 of inet_diag_msg.
func diagListeners(family, protocol uint8, states uint32, out []Listener) ([]Listener, error) {
	req := nl.NewNetlinkRequest(nl.SOCK_DIAG_BY_FAMILY, syscall.NLM_F_DUMP)
	req.AddData(diagRequest{family: family, protocol: protocol, states: states})
	proto := TCP
	if protocol == syscall.IPPROTO_UDP {
		proto = UDP
	}
	var bad error
	err := req.ExecuteIter(syscall.NETLINK_INET_DIAG, nl.SOCK_DIAG_BY_FAMILY, func(m []byte) bool {
		if len(m) < sizeofDiagMsg {
			bad = fmt.Errorf("sock_diag message of %d bytes, want at least %d", len(m), sizeofDiagMsg)
			return false
		}
		s := diagSocket(proto, m)
		out = append(out, Listener{Proto: proto, Local: s.Local, Inode: uint64(binary.NativeEndian.Uint32(m[68:72]))})
		return true
	})
	if errors.Is(err, nl.ErrDumpInterrupted) {
		err = nil // as in diagDump: what was walked is kept
	}
	if err = errors.Join(err, bad); err != nil {
		return out, fmt.Errorf("sock_diag dump of %s listeners (address family %d): %w", proto, family, err)
	}
	return out, nil
}

// procListeners reads the listeners from ProcNet/{tcp,tcp6,udp,udp6}.
func (r Reader) procListeners() ([]Listener, error) {
	var out []Listener
	for _, t := range []struct{ file, proto string }{{"tcp", TCP}, {"tcp6", TCP}, {"udp", UDP}, {"udp6", UDP}} {
		var err error
		out, err = readListeners(filepath.Join(r.procNet(), t.file), t.proto, out)
		if err != nil && !(errors.Is(err, fs.ErrNotExist) && t.file[len(t.file)-1] == '6') {
			return nil, err
		}
	}
	return out, nil
}
