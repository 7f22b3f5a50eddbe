package change

import (
	"context"
	"fmt"
	"strings"

	"portpanel/db"
)

// The monitors announce what an admin should hear of without opening the
// panel: the running range drifting from the boot value, and the busiest
// destination's exhaustion risk crossing a threshold. Each announcement is
// an audit event (which raises its webhook in the same transaction), once
// per crossing: the last reading is kept in the database (db.Observe).

// Monitor readings.
const (
	driftMonitor = "drift"
	riskMonitor  = "risk"
	driftYes     = "drift"
	driftNo      = "in sync"
)

// Risk levels, in rising order.
const (
	RiskOK       = "ok"
	RiskWarning  = "warning"
	RiskCritical = "critical"
)

// riskMargin is how far below a threshold risk must fall before its level
// is left: a destination hovering at the threshold would otherwise
// announce a crossing at every sample.
const riskMargin = 0.05

// WatchDrift records whether the running range or reserved ports differ
// from the values the host boots with and, when they start to, audits
// "range.drift". It reports whether there is drift.
func (s *Service) WatchDrift(ctx context.Context) (bool, error) {
	s.mu.Lock() // never between an apply's kernel write and its file write
	defer s.mu.Unlock()
	st, err := s.Status(ctx)
	if err != nil {
		return false, err
	}
	drift := st.Drift || st.ReservedDrift
	reading := driftNo
	if drift {
		reading = driftYes
	}
	run, boot := st.Kernel.Range, st.BootRange
	where := "no file sets it: the kernel default"
	if st.Boot.Boot.Set {
		where = fmt.Sprintf("set by %s:%d", st.Boot.Boot.Where.File, st.Boot.Boot.Where.Line)
	}
	r := st.Boot.Boot.Reserved
	reservedWhere := "no file sets them: the kernel default"
	if r.Set {
		reservedWhere = fmt.Sprintf("set by %s:%d", r.Where.File, r.Where.Line)
	}
	facts := map[string]any{"runtime": map[string]int{"low": run.Low, "high": run.High},
		"boot": map[string]int{"low": boot.Low, "high": boot.High}, "boot_source": where,
		"runtime_reserved_ports": st.Kernel.ReservedPorts, "boot_reserved_ports": st.BootReserved,
		"boot_reserved_ports_source": reservedWhere}
	_, err = s.DB.Observe(ctx, driftMonitor, reading, func(string) *db.AuditEvent {
		if !drift {
			return nil
		}
		var parts []string
		if st.Drift {
			parts = append(parts, fmt.Sprintf("The running range %d %d differs from the boot value %d %d (%s)",
				run.Low, run.High, boot.Low, boot.High, where))
		}
		if st.ReservedDrift {
			parts = append(parts, fmt.Sprintf("the running reserved ports %s differ from the boot value %s (%s)",
				portsText(st.Kernel.ReservedPorts), portsText(st.BootReserved), reservedWhere))
		}
		text := strings.Join(parts, "; ")
		return &db.AuditEvent{At: s.Now().UTC(), Action: "range.drift", Detail: strings.ToUpper(text[:1]) + text[1:] + ": a reboot would change it."}
	}, facts)
	if err != nil {
		return false, fmt.Errorf("record drift: %w", err)
	}
	return drift, nil
}

// WatchRisk records the level of the busiest destination's exhaustion
// risk in the latest usage sample against warning and critical (shares of
// capacity) and, when it rises into warning or critical, audits
// "risk.warning" or "risk.critical". It returns the level.
func (s *Service) WatchRisk(ctx context.Context, warning, critical float64) (string, error) {
	snap, ok := s.LatestUsage()
	if !ok {
		return "", nil
	}
	prev, err := s.DB.Monitor(ctx, riskMonitor)
	if err != nil {
		return "", err
	}
	risk, dest, sockets := 0.0, "", 0
	if b := snap.Busiest; b != nil {
		risk, dest, sockets = b.Risk, b.Remote.String(), b.Sockets
	}
	level := riskLevel(risk, prev, warning, critical)
	threshold := map[string]float64{RiskWarning: warning, RiskCritical: critical}[level]
	facts := map[string]any{"level": level, "previous": prevOrOK(prev), "risk": risk, "destination": dest,
		"sockets": sockets, "capacity": snap.Capacity, "threshold": threshold}
	_, err = s.DB.Observe(ctx, riskMonitor, level, func(prev string) *db.AuditEvent {
		if rank(level) <= rank(prev) {
			return nil
		}
		return &db.AuditEvent{At: s.Now().UTC(), Action: "risk." + level, Detail: fmt.Sprintf(
			"Exhaustion risk to %s is %.0f%% of capacity (%d of %d ports), at or above the %s threshold of %.0f%%.",
			dest, risk*100, sockets, snap.Capacity, level, threshold*100)}
	}, facts)
	if err != nil {
		return "", fmt.Errorf("record risk level: %w", err)
	}
	return level, nil
}

// riskLevel is risk's level, given the previous one: a level is left
// downwards only riskMargin below its threshold.
func riskLevel(risk float64, prev string, warning, critical float64) string {
	of := func(r float64) string {
		switch {
		case r >= critical:
			return RiskCritical
		case r >= warning:
			return RiskWarning
		}
		return RiskOK
	}
	now := of(risk)
	if rank(now) >= rank(prev) {
		return now
	}
	if held := of(risk + riskMargin); rank(held) < rank(prev) {
		return held
	}
	return prevOrOK(prev)
}

func rank(level string) int {
	switch level {
	case RiskWarning:
		return 1
	case RiskCritical:
		return 2
	}
	return 0
}

func prevOrOK(level string) string {
	if level == "" {
		return RiskOK
	}
	return level
}
