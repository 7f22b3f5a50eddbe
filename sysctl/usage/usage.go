// Package usage owns the measurement of ephemeral port use: it reads the
// sockets of the current network namespace (netlink sock_diag, with
// /proc/net as the fallback) and turns them into the exhaustion model: connect()
// reuses a local port for every distinct destination, so a host runs out per
// destination, while ports held by bind() and reserved ports are out for
// everyone (README, "Observe"). It knows nothing of HTTP, SQL or
// scheduling, and never logs: the sampler decides when to take a snapshot.
package usage

import "net/netip"

// Proto names used in Socket.Proto.
const (
	TCP = "tcp"
	UDP = "udp"
)

// TCP state names used in Socket.State and Snapshot.TCP. They are the
// kernel's names (include/net/tcp_states.h) rather than ss's abbreviations
// ("ESTAB", "TIME-WAIT") because the API and metrics expose them and the
// issue spells them this way.
const (
	Established = "ESTABLISHED"
	SynSent     = "SYN_SENT"
	SynRecv     = "SYN_RECV"
	FinWait1    = "FIN_WAIT1"
	FinWait2    = "FIN_WAIT2"
	TimeWait    = "TIME_WAIT"
	Close       = "CLOSE"
	CloseWait   = "CLOSE_WAIT"
	LastAck     = "LAST_ACK"
	Listen      = "LISTEN"
	Closing     = "CLOSING"
	NewSynRecv  = "NEW_SYN_RECV"
)

// stateNames maps the kernel's state number (the /proc/net/tcp "st" column
// and inet_diag's idiag_state) to its name.
var stateNames = [...]string{
	1: Established, 2: SynSent, 3: SynRecv, 4: FinWait1, 5: FinWait2,
	6: TimeWait, 7: Close, 8: CloseWait, 9: LastAck, 10: Listen,
	11: Closing, 12: NewSynRecv,
}

func stateName(n uint8) string {
	if int(n) < len(stateNames) && stateNames[n] != "" {
		return stateNames[n]
	}
	return "UNKNOWN"
}

// Socket is one TCP or UDP socket of the namespace.
type Socket struct {
	Proto string // TCP or UDP
	// State is the TCP state name (Established, TimeWait, Listen, ...).
	// It is "" for UDP: UDP has no states, and whether a UDP socket is
	// connected is already visible as a valid Remote.
	State string
	// Local and Remote are normalised: IPv4-mapped IPv6 addresses
	// (dual-stack sockets, which the kernel lists only in its IPv6
	// tables) are unmapped to IPv4, so one destination is one key
	// whichever family the application used. An unconnected socket has
	// the unspecified address and port 0 as Remote.
	Local, Remote netip.AddrPort
}

// Source says where a list of sockets came from.
type Source string

const (
	SourceNetlink Source = "netlink"
	SourceProc    Source = "proc"
)

func unmap(ap netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}
