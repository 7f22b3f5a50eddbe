package web_test

import (
	"testing"
	"time"

	"portpanel/auth"
	"portpanel/db"
	"portpanel/handlers"
	"portpanel/sysctl"
	"portpanel/sysctl/sysctltest"
)

// The families the alert rules (contrib/prometheus) read: each moment is
// absent until it exists, then the Unix time of that moment.
func TestMetricsForAlertRules(t *testing.T) {
	e := newEnv(t, sysctltest.ProcSys())
	e.h.Risk = handlers.RiskThresholds{Warning: 0.6, Critical: 0.85}
	hdr := e.bearer(t, "prometheus", auth.RoleViewer)
	c := e.client(t)
	ctx := t.Context()

	fams := scrape(t, c, hdr.Clone())
	for _, name := range []string{"portpanel_oldest_proposal_timestamp_seconds",
		"portpanel_confirm_deadline_timestamp_seconds", "portpanel_audit_chain_verified_timestamp_seconds"} {
		if fams[name] != nil {
			t.Errorf("%s is exposed before the moment it names exists: a rule would read 0 as 1970", name)
		}
	}
	for _, name := range []string{"portpanel_syslog_sent_total", "portpanel_syslog_dropped_total", "portpanel_syslog_queue_length"} {
		if fams[name] != nil {
			t.Errorf("%s is exposed without --syslog", name)
		}
	}
	// No file sets the range in the test's tree: the host boots with the
	// kernel default.
	for _, tt := range []struct {
		family string
		labels []string
		want   float64
	}{
		{"portpanel_boot_port_range_low", nil, float64(sysctl.DefaultRange.Low)},
		{"portpanel_boot_port_range_high", nil, float64(sysctl.DefaultRange.High)},
		{"portpanel_risk_threshold", []string{"level", "warning"}, 0.6},
		{"portpanel_risk_threshold", []string{"level", "critical"}, 0.85},
		{"portpanel_audit_chain_broken", nil, 0},
	} {
		if got, ok := sample(fams, tt.family, tt.labels...); !ok || got != tt.want {
			t.Errorf("%s%v = %v (present %v), want %v", tt.family, tt.labels, got, ok, tt.want)
		}
	}

	u := e.addUser(t, "alice", auth.RoleOperator)
	proposedAt := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	deadline := time.Date(2026, 5, 1, 13, 30, 0, 0, time.UTC)
	e.recordChanges(t, u,
		db.Change{Status: db.StatusProposed, CreatedAt: proposedAt},
		db.Change{Status: db.StatusProposed, CreatedAt: proposedAt.Add(time.Hour)},
		db.Change{Status: db.StatusApplied, ConfirmWithin: time.Hour, ConfirmBy: &deadline},
		db.Change{Status: db.StatusApplied, ConfirmWithin: 2 * time.Hour, ConfirmBy: new(deadline.Add(time.Hour))})
	if _, err := e.h.DB.VerifyAudit(ctx); err != nil {
		t.Fatal(err)
	}
	checked := e.h.DB.ChainChecked().FullAt

	fams = scrape(t, c, hdr.Clone())
	for _, tt := range []struct {
		family string
		want   float64
	}{
		{"portpanel_oldest_proposal_timestamp_seconds", float64(proposedAt.Unix())},
		{"portpanel_confirm_deadline_timestamp_seconds", float64(deadline.Unix())},
		{"portpanel_audit_chain_verified_timestamp_seconds", float64(checked.UnixNano()) / 1e9},
		{"portpanel_audit_chain_broken", 0},
	} {
		if got, ok := sample(fams, tt.family); !ok || got != tt.want {
			t.Errorf("%s = %v (present %v), want %v", tt.family, got, ok, tt.want)
		}
	}

	// An event edited behind the triggers' back: the next check finds it.
	for _, stmt := range []string{`DROP TRIGGER audit_events_no_update`,
		`UPDATE audit_events SET detail = 'edited' WHERE id = 1`} {
		if _, err := e.h.DB.SQL().Exec(stmt); err != nil {
			t.Fatalf("tamper %q: %v", stmt, err)
		}
	}
	if _, err := e.h.DB.VerifyAudit(ctx); err == nil {
		t.Fatal("VerifyAudit passed an edited log")
	}
	fams = scrape(t, c, hdr.Clone())
	if got, _ := sample(fams, "portpanel_audit_chain_broken"); got != 1 {
		t.Errorf("portpanel_audit_chain_broken = %v after a failed check, want 1", got)
	}
	if got, _ := sample(fams, "portpanel_audit_chain_verified_timestamp_seconds"); got != float64(checked.UnixNano())/1e9 {
		t.Errorf("portpanel_audit_chain_verified_timestamp_seconds = %v after a failed check, want the last passed one %v", got, float64(checked.UnixNano())/1e9)
	}
}

// recordChanges stores changes of 32768-60999 to 40000-50001 by u, each in
// the status (and with the times) given, with its audit event.
func (e *env) recordChanges(t testing.TB, u db.User, changes ...db.Change) {
	t.Helper()
	for _, ch := range changes {
		ch.Low, ch.High, ch.BeforeLow, ch.BeforeHigh = 40000, 50001, 32768, 60999
		ch.Reason, ch.UserID, ch.User, ch.File = "more ports", u.ID, u.Name, e.file
		if _, _, err := e.h.DB.RecordChange(t.Context(), ch, db.AuditEvent{User: u.Name, Action: "change." + ch.Status}, nil); err != nil {
			t.Fatal(err)
		}
	}
}
