package usage

import "portpanel/sysctl"

// Impact previews a range change against the sockets open now.
type Impact struct {
	// Outside counts sockets whose local port is in the current range
	// but not in the new one. They keep working; it says how much of
	// today's use the new range would not have room for in the same
	// place.
	Outside int
	// Capacity is C under the new range: its size less the reserved
	// and bind()-held ports that fall inside it.
	Capacity int
	// Busiest is today's busiest destination with its Risk recomputed
	// against the new Capacity (nil when there is none): today's demand
	// U_D must fit in the new range once current connections are
	// replaced by new ones.
	Busiest     *Destination
	BusiestRisk float64 // Busiest.Risk, or 0
}

// ImpactOf says what newRange would do to today's use in st.
func ImpactOf(socks []Socket, st sysctl.KernelState, newRange sysctl.Range) (Impact, error) {
	now, err := newTally(socks, st.Range, st.ReservedPorts)
	if err != nil {
		return Impact{}, err
	}
	next, err := newTally(socks, newRange, st.ReservedPorts)
	if err != nil {
		return Impact{}, err
	}
	imp := Impact{Capacity: max(next.capacity, 0)}
	for _, s := range socks {
		if p := s.Local.Port(); now.in(p) && !next.in(p) {
			imp.Outside++
		}
	}
	if d := top(now.demand(socks), next.capacity, 1); len(d) > 0 {
		imp.Busiest = &d[0]
		imp.BusiestRisk = d[0].Risk
	}
	return imp, nil
}
