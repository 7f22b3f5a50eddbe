package usage

import (
	"cmp"
	"net/netip"
	"slices"
	"time"

	"portpanel/sysctl"
)

// TimeWaitSeconds is how long Linux keeps a closed connection in
// TIME_WAIT (TCP_TIMEWAIT_LEN in include/net/tcp.h; not tunable).
const TimeWaitSeconds = 60

// TopN is how many destinations a Snapshot lists.
const TopN = 10

// Destination is one (source IP, destination IP, destination port): the
// unit connect() runs out of ports for.
type Destination struct {
	LocalIP netip.Addr
	Remote  netip.AddrPort
	Sockets int     // U_D: in-range TCP sockets to it, any state
	Risk    float64 // U_D / Capacity, in [0, 1]
}

// Snapshot is the port usage of one namespace at one moment.
type Snapshot struct {
	At     time.Time
	Source Source // set by Reader.Take; Compute leaves it empty
	Range  sysctl.Range
	// Capacity is C = range size - Reserved - Bound: the ports connect()
	// may hand out to any one destination; 0 when reserved and bound
	// ports leave none (risks are then 1).
	Capacity int
	Reserved int            // ip_local_reserved_ports inside Range
	TCP      map[string]int // TCP sockets by state, whole namespace
	UDP      int            // UDP sockets, whole namespace
	// Bound is the number of in-range ports held by bind()-ed TCP
	// sockets (see isBound for the approximation). UDP ports are not
	// counted: UDP has its own port table, which TCP never looks at.
	Bound   int
	InRange int // TCP and UDP sockets whose local port is in Range
	// Destinations are the TopN busiest, by Sockets descending, then by
	// address so equal counts always list in the same order.
	Destinations []Destination
	Busiest      *Destination // Destinations[0]; nil when there are none
	// SharedUse is the budget of bind(0) and UDP users, for whom a port
	// is exclusive whatever the destination: the larger of distinct
	// in-range TCP ports in use (not bind()-held) / Capacity and distinct
	// in-range UDP ports / (range size - Reserved), each protocol having
	// its own table. In [0, 1].
	SharedUse float64
	// RatePerSecond is the sustainable rate of new short-lived
	// connections to any one destination, the busiest included:
	// Capacity / TimeWaitSeconds, since every port stays in TIME_WAIT
	// for 60 s after the client closes. It is an upper bound: long-lived
	// connections to that destination hold ports too, and tcp_tw_reuse
	// (loopback only by default) can raise it.
	RatePerSecond float64
}

// Compute applies the exhaustion model to socks under the range and
// reserved ports in st. at is stored as the snapshot's time.
func Compute(socks []Socket, st sysctl.KernelState, at time.Time) (Snapshot, error) {
	t, err := newTally(socks, st.Range, st.ReservedPorts)
	if err != nil {
		return Snapshot{}, err
	}
	snap := Snapshot{At: at, Range: st.Range, Capacity: max(t.capacity, 0),
		Reserved: t.reserved, Bound: t.bound, TCP: map[string]int{}}
	var tcpPorts, udpPorts portSet
	var tcpUsed, udpUsed int
	for _, s := range socks {
		p := s.Local.Port()
		if s.Proto == UDP {
			snap.UDP++
		} else {
			snap.TCP[s.State]++
		}
		if !t.in(p) {
			continue
		}
		snap.InRange++
		switch {
		case s.Proto == UDP && udpPorts.add(p):
			udpUsed++
		case s.Proto == TCP && !t.boundPorts.has(p) && tcpPorts.add(p):
			tcpUsed++
		}
	}
	snap.Destinations = top(t.demand(socks), t.capacity, TopN)
	if len(snap.Destinations) > 0 {
		b := snap.Destinations[0]
		snap.Busiest = &b
	}
	snap.SharedUse = max(share(tcpUsed, t.capacity), share(udpUsed, st.Range.Size()-t.reserved))
	snap.RatePerSecond = float64(snap.Capacity) / TimeWaitSeconds
	return snap, nil
}

// top returns the n destinations with the most sockets, with their risk
// against capacity.
func top(demand map[destKey]int, capacity, n int) []Destination {
	out := make([]Destination, 0, len(demand))
	for k, u := range demand {
		out = append(out, Destination{LocalIP: k.local, Remote: k.remote, Sockets: u, Risk: share(u, capacity)})
	}
	slices.SortFunc(out, func(a, b Destination) int {
		return cmp.Or(cmp.Compare(b.Sockets, a.Sockets), a.LocalIP.Compare(b.LocalIP), a.Remote.Compare(b.Remote))
	})
	return out[:min(n, len(out))]
}
