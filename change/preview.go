package change

import (
	"context"
	"fmt"

	"portpanel/db"
	"portpanel/sysctl"
	"portpanel/sysctl/usage"
)

// Preview is what a request would do, computed without changing anything.
type Preview struct {
	Before, Target sysctl.Range
	// BeforeReserved is ip_local_reserved_ports now; TargetReserved the
	// list the change sets (nil: it leaves the key alone).
	BeforeReserved string
	TargetReserved *string
	Warnings       []string
	Notes          []string
	File           string
	Diff           string
	// FileState is the managed file's state now, to send back as
	// Request.BaseFile so the file previewed is the file changed.
	FileState        string
	RequiresApproval bool
	// Impact is what a narrower range would do to the sockets of the
	// sampler's latest scan; nil when the range does not narrow or there
	// is no scan yet.
	Impact *usage.Impact
	// Hazards must each be acknowledged (Request.Acknowledge) for the
	// change to apply. Listeners are the ports services listen on inside
	// Target, reserved or not; ReserveFix is the setting that reserves
	// the ones that are not ("" when none).
	Hazards    []db.Hazard
	Listeners  []usage.Collision
	ReserveFix string
	// Host is the remote host previewed ("" for the local host), and
	// Generation its desired-state generation, to send back as
	// Request.BaseGeneration.
	Host       string
	Generation int64
}

// Preview validates req as Apply would and returns what it would do. It
// writes nothing.
func (s *Service) Preview(ctx context.Context, req Request) (Preview, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, err := s.plan(ctx, req)
	if err != nil {
		return Preview{}, err
	}
	if p.fileRefused != nil {
		return Preview{}, &InvalidError{Field: "file", Message: p.fileRefused.Error()}
	}
	c := p.change
	st, err := s.Kernel.Read()
	if err != nil {
		return Preview{}, fmt.Errorf("read kernel: %w", err)
	}
	target := sysctl.Range{Low: c.Low, High: c.High}
	reserved := proposedReserved(st, c)
	listeners := s.Collisions(target, reserved)
	return Preview{
		Before: sysctl.Range{Low: c.BeforeLow, High: c.BeforeHigh}, Target: target,
		BeforeReserved: st.ReservedPorts, TargetReserved: c.ReservedPorts,
		Warnings: c.Warnings, Notes: c.Notes, File: c.File, Diff: c.Diff, FileState: c.BaseFileHash,
		RequiresApproval: s.RequireApproval, Impact: s.impact(st, target),
		Hazards: c.Hazards, Listeners: listeners, ReserveFix: ReserveFix(listeners, reserved),
	}, nil
}
