package change

import (
	"context"
	"fmt"
	"sync"

	"portpanel/db"
	"portpanel/sysctl"
	"portpanel/sysctl/usage"
)

// usageState is the sampler's latest scan, kept so the preview page can
// show a change's impact without scanning sockets per request.
type usageState struct {
	mu    sync.Mutex
	socks []usage.Socket
	snap  *usage.Snapshot
}

// SampleUsage scans the sockets, stores the aggregates in the usage history
// and keeps the scan for Impact. Only the sampler calls it: a scan of tens
// of thousands of sockets is not something to do per request.
func (s *Service) SampleUsage(ctx context.Context) (usage.Snapshot, error) {
	// The lock keeps the range read and the scan on the same side of an
	// apply, so a snapshot never mixes two ranges.
	s.mu.Lock()
	st, err := s.Kernel.Read()
	if err != nil {
		s.mu.Unlock()
		return usage.Snapshot{}, fmt.Errorf("read kernel: %w", err)
	}
	snap, socks, err := s.Sockets.Take(ctx, st, s.Now().UTC())
	s.mu.Unlock()
	if err != nil {
		return usage.Snapshot{}, fmt.Errorf("scan sockets: %w", err)
	}
	if _, err := s.DB.InsertUsage(ctx, usageRow(snap)); err != nil {
		return usage.Snapshot{}, fmt.Errorf("store usage sample: %w", err)
	}
	s.usage.mu.Lock()
	s.usage.socks, s.usage.snap = socks, &snap
	s.usage.mu.Unlock()
	if err := s.sampleListeners(ctx, st.Range, snap.At); err != nil {
		return snap, err
	}
	return snap, nil
}

// LatestUsage is the sampler's latest snapshot, if it has taken one.
func (s *Service) LatestUsage() (usage.Snapshot, bool) {
	s.usage.mu.Lock()
	defer s.usage.mu.Unlock()
	if s.usage.snap == nil {
		return usage.Snapshot{}, false
	}
	return *s.usage.snap, true
}

// impact previews target against the latest scan under st; nil when there
// is no scan yet or target does not narrow the range.
func (s *Service) impact(st sysctl.KernelState, target sysctl.Range) *usage.Impact {
	if target.Low <= st.Range.Low && target.High >= st.Range.High {
		return nil
	}
	return s.impactWith(st, target, st.ReservedPorts)
}

func usageRow(snap usage.Snapshot) db.UsageSample {
	u := db.UsageSample{
		At: snap.At, Source: string(snap.Source), RangeLow: snap.Range.Low, RangeHigh: snap.Range.High,
		Capacity: snap.Capacity, InUse: snap.InRange, Bound: snap.Bound, UDP: snap.UDP,
		TimeWait: snap.TCP["TIME_WAIT"], Established: snap.TCP["ESTABLISHED"], SharedUse: snap.SharedUse,
		TCPStates: snap.TCP,
	}
	for _, n := range snap.TCP {
		u.TCPTotal += n
	}
	for _, d := range snap.Destinations {
		u.Destinations = append(u.Destinations, db.UsageDestination{
			LocalIP: d.LocalIP.String(), Destination: d.Remote.String(), Sockets: d.Sockets, Risk: d.Risk})
	}
	if b := snap.Busiest; b != nil {
		u.BusiestDestination, u.BusiestSockets, u.BusiestRisk = b.Remote.String(), b.Sockets, b.Risk
	}
	return u
}
