package usage

import (
	"fmt"
	"net/netip"

	"portpanel/sysctl"
)

// portSet is a bitmap of the 65536 ports: 8 KiB, and no hashing on a path
// that visits every socket.
type portSet [65536 / 64]uint64

// add reports whether port was new.
func (p *portSet) add(port uint16) bool {
	w, bit := port/64, uint64(1)<<(port%64)
	if p[w]&bit != 0 {
		return false
	}
	p[w] |= bit
	return true
}

func (p *portSet) has(port uint16) bool { return p[port/64]&(uint64(1)<<(port%64)) != 0 }

// destKey is what connect() must keep unique per local port: the source
// address and the destination address and port (notes §1.1).
type destKey struct {
	local  netip.Addr
	remote netip.AddrPort
}

// tally is the capacity side of the model for one range.
type tally struct {
	rng        sysctl.Range
	reserved   int     // reserved ports inside rng
	bound      int     // ports inside rng held by bind(), not reserved
	boundPorts portSet // every bind()-held port, reserved or not
	capacity   int     // rng.Size() - reserved - bound
}

// isBound guesses whether a TCP socket's port came from bind(). sock_diag
// and /proc do not say, so: a listener, or a socket with no peer (bound,
// not connected). A client that called bind() and then connect() looks
// like any connected socket and is missed, so capacity can be
// overestimated on hosts whose clients bind explicitly. Accepted sockets
// share their listener's port, which is counted through the listener.
func isBound(s Socket) bool {
	return s.Proto == TCP && (s.State == Listen || s.Remote.Port() == 0)
}

func newTally(socks []Socket, rng sysctl.Range, reservedSpec string) (tally, error) {
	t := tally{rng: rng}
	if rng.Low < sysctl.MinPort || rng.High > sysctl.MaxPort || rng.Low > rng.High {
		return t, fmt.Errorf("compute port usage: range %d-%d is not a valid port range", rng.Low, rng.High)
	}
	reserved, err := sysctl.ParseReservedPorts(reservedSpec)
	if err != nil {
		return t, fmt.Errorf("compute port usage: ip_local_reserved_ports: %w", err)
	}
	t.reserved = sysctl.ReservedInRange(reserved, rng)
	var res portSet
	for _, r := range reserved {
		for p := max(r.Low, rng.Low); p <= min(r.High, rng.High); p++ {
			res.add(uint16(p))
		}
	}
	for _, s := range socks {
		p := s.Local.Port()
		// A port both reserved and bound is already out of the
		// capacity once; the kernel does not skip it twice.
		if isBound(s) && t.in(p) && t.boundPorts.add(p) && !res.has(p) {
			t.bound++
		}
	}
	t.capacity = rng.Size() - t.reserved - t.bound
	return t, nil
}

func (t *tally) in(port uint16) bool { return int(port) >= t.rng.Low && int(port) <= t.rng.High }

// ephemeral reports whether s holds a port that connect() handed out
// from the range: in range, not a bind()-held port, and with a peer.
func (t *tally) ephemeral(s Socket) bool {
	p := s.Local.Port()
	return s.Proto == TCP && t.in(p) && !t.boundPorts.has(p) && s.Remote.Port() != 0
}

// demand counts U_D: sockets per destination in any state, TIME_WAIT
// included, because the kernel will not reuse a 4-tuple a TIME_WAIT socket
// still holds (tcp_tw_reuse aside).
func (t *tally) demand(socks []Socket) map[destKey]int {
	m := make(map[destKey]int)
	for _, s := range socks {
		if t.ephemeral(s) {
			m[destKey{s.Local.Addr().Unmap(), unmap(s.Remote)}]++
		}
	}
	return m
}

// share is used/capacity, as a risk in [0, 1]. No capacity at all is
// full exhaustion. Above 1 is possible when ports were reserved or bound
// after the sockets took them; it is clamped because the figure is read as
// "how full".
func share(used, capacity int) float64 {
	if capacity <= 0 {
		return 1
	}
	return min(float64(used)/float64(capacity), 1)
}
