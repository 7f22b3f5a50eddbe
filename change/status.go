package change

import (
	"context"
	"errors"
	"fmt"
	"strings"

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
	// ReportID names the computation of Boot: two Statuses of one Service
	// with the same ReportID and Kernel are equal, field for field (the
	// rest is derived from them), so what shows them can be kept.
	ReportID uint64
	File     string
	// BootRange is what the host will boot with: the boot value, or the
	// kernel default when no file sets a valid one.
	BootRange sysctl.Range
	// BootSet is false when BootRange is the kernel default.
	BootSet bool
	// Drift is true when the running range differs from BootRange.
	Drift bool
	// BootReserved is the reserved ports the host will boot with ("" for
	// none, the kernel default); ReservedDrift is true when the running
	// list differs from it.
	BootReserved  string
	ReservedDrift bool
	Warnings      []string
}

// Status reads the kernel, and the boot value from the config files as
// read at most ReportMaxAge ago (see bootReport). It is for display: the
// change workflow reads everything afresh.
func (s *Service) Status(ctx context.Context) (Status, error) {
	st, err := s.kernelFiles().Read()
	if err != nil {
		return Status{}, fmt.Errorf("read kernel: %w", err)
	}
	rep, id, err := s.bootReport()
	if err != nil {
		return Status{}, fmt.Errorf("compute boot value: %w", err)
	}
	out := Status{Kernel: st, Boot: rep, ReportID: id, File: s.File, BootRange: KernelDefault}
	if rep.Boot.Set && rep.Boot.Range != nil {
		out.BootRange, out.BootSet = *rep.Boot.Range, true
	}
	out.Drift = out.BootRange != st.Range
	out.BootReserved = rep.Boot.Reserved.Ports
	out.ReservedDrift = out.BootReserved != st.ReservedPorts
	if warnings, err := sysctl.Validate(st.Range, st); err == nil {
		out.Warnings = append(out.Warnings, warnings...)
	}
	out.Warnings = append(out.Warnings, rep.Warnings...)
	return out, nil
}

// Sample records the runtime range and reserved ports in history when
// either differs from the last sample, or always when source is
// db.SourceStart. A difference nobody recorded is someone else's change:
// it is stored as external and audited.
func (s *Service) Sample(ctx context.Context, source string) (db.Sample, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.Kernel.ReadRange()
	if err != nil {
		return db.Sample{}, false, fmt.Errorf("read kernel: %w", err)
	}
	reserved, err := s.Kernel.ReadReserved()
	if err != nil {
		return db.Sample{}, false, fmt.Errorf("read kernel: %w", err)
	}
	now := s.Now().UTC()
	last, err := s.DB.LatestSample(ctx)
	hasLast := err == nil
	if err != nil && !errors.Is(err, db.ErrNotFound) {
		return db.Sample{}, false, fmt.Errorf("load latest sample: %w", err)
	}
	rangeChanged := hasLast && (last.Low != r.Low || last.High != r.High)
	// A sample from before reserved ports were recorded (nil) says
	// nothing about them: the first reading is no change, only recorded.
	reservedChanged := hasLast && last.ReservedPorts != nil && *last.ReservedPorts != reserved
	external := rangeChanged || reservedChanged
	switch {
	case source == db.SourceStart:
	case !hasLast:
		source = db.SourceSample
	case external:
		source = db.SourceExternal
	case last.ReservedPorts == nil:
		source = db.SourceSample
	default:
		return last, false, nil
	}
	if external {
		when := "while portpanel was running"
		if source == db.SourceStart {
			when = "while portpanel was stopped"
		}
		var keys, what []string
		if rangeChanged {
			keys = append(keys, sysctl.Key)
			what = append(what, fmt.Sprintf("%d %d → %d %d", last.Low, last.High, r.Low, r.High))
		}
		if reservedChanged {
			keys = append(keys, sysctl.ReservedKey)
			what = append(what, fmt.Sprintf("reserved ports %s → %s", portsText(*last.ReservedPorts), portsText(reserved)))
		}
		if _, err := s.DB.AppendAudit(ctx, db.AuditEvent{At: now, Action: "range.external", Detail: fmt.Sprintf(
			"%s changed outside portpanel %s: %s", strings.Join(keys, " and "), when, strings.Join(what, "; "))}); err != nil {
			return db.Sample{}, false, fmt.Errorf("audit external change: %w", err)
		}
	}
	sm, err := s.DB.InsertSample(ctx, db.Sample{At: now, Low: r.Low, High: r.High, Source: source, ReservedPorts: &reserved})
	if err != nil {
		return db.Sample{}, false, fmt.Errorf("insert sample: %w", err)
	}
	return sm, true, nil
}
