package change

import (
	"context"
	"errors"
	"fmt"

	"portpanel/db"
	"portpanel/sysctl"
)

// KernelDefault is the range a kernel boots with when no file sets it
// (since Linux 4.2).
var KernelDefault = sysctl.DefaultRange

// Status is the range now, after a reboot, and what an admin should know.
type Status struct {
	Kernel sysctl.KernelState
	Boot   sysctl.BootReport
	File   string
	// BootRange is what the host will boot with: the boot value, or the
	// kernel default when no file sets a valid one.
	BootRange sysctl.Range
	// BootSet is false when BootRange is the kernel default.
	BootSet  bool
	Drift    bool
	Warnings []string
}

// Status reads the kernel, and the boot value from the config files as
// read at most ReportMaxAge ago (see bootReport). It is for display: the
// change workflow reads everything afresh.
func (s *Service) Status(ctx context.Context) (Status, error) {
	st, err := s.kernelFiles().Read()
	if err != nil {
		return Status{}, fmt.Errorf("read kernel: %w", err)
	}
	rep, err := s.bootReport()
	if err != nil {
		return Status{}, fmt.Errorf("compute boot value: %w", err)
	}
	out := Status{Kernel: st, Boot: rep, File: s.File, BootRange: KernelDefault}
	if rep.Boot.Set && rep.Boot.Range != nil {
		out.BootRange, out.BootSet = *rep.Boot.Range, true
	}
	out.Drift = out.BootRange != st.Range
	if warnings, err := sysctl.Validate(st.Range, st); err == nil {
		out.Warnings = append(out.Warnings, warnings...)
	}
	out.Warnings = append(out.Warnings, rep.Warnings...)
	return out, nil
}

// Sample records the runtime range in history when it differs from the last
// sample, or always when source is db.SourceStart. A difference nobody
// recorded is someone else's change: it is stored as external and audited.
func (s *Service) Sample(ctx context.Context, source string) (db.Sample, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.Kernel.ReadRange()
	if err != nil {
		return db.Sample{}, false, fmt.Errorf("read kernel: %w", err)
	}
	now := s.Now().UTC()
	last, err := s.DB.LatestSample(ctx)
	hasLast := err == nil
	if err != nil && !errors.Is(err, db.ErrNotFound) {
		return db.Sample{}, false, fmt.Errorf("load latest sample: %w", err)
	}
	changed := hasLast && (last.Low != r.Low || last.High != r.High)
	switch {
	case source == db.SourceStart:
	case !hasLast:
		source = db.SourceSample
	case changed:
		source = db.SourceExternal
	default:
		return last, false, nil
	}
	if changed {
		when := "while portpanel was running"
		if source == db.SourceStart {
			when = "while portpanel was stopped"
		}
		if _, err := s.DB.AppendAudit(ctx, db.AuditEvent{At: now, Action: "range.external", Detail: fmt.Sprintf(
			"%s changed outside portpanel %s: %d %d → %d %d", sysctl.Key, when, last.Low, last.High, r.Low, r.High)}); err != nil {
			return db.Sample{}, false, fmt.Errorf("audit external change: %w", err)
		}
	}
	sm, err := s.DB.InsertSample(ctx, db.Sample{At: now, Low: r.Low, High: r.High, Source: source})
	if err != nil {
		return db.Sample{}, false, fmt.Errorf("insert sample: %w", err)
	}
	return sm, true, nil
}
