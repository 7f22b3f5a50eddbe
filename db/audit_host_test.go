package db_test

import (
	"testing"

	"portpanel/db"
	"portpanel/db/dbtest"
)

// A host's events are those naming it quoted, as fleet writes them: not
// those of a host whose name starts the same, nor one whose name makes a
// LIKE pattern of it.
func TestAuditForHost(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		for _, detail := range []string{`host "lb-1" enrolled`, `host "lb-10" enrolled`, `host "lb_1x" enrolled`, `host "lb-1" revoked`} {
			if _, err := d.AppendAudit(t.Context(), db.AuditEvent{Action: "host.x", Detail: detail}); err != nil {
				t.Fatal(err)
			}
		}
		// A remote change's events name the host unquoted: they are found
		// by their change.
		if _, _, err := d.RecordChange(t.Context(), db.Change{Status: db.StatusApplied, Low: 20000, High: 60999, User: "root", Host: "lb-1"},
			db.AuditEvent{User: "root", Action: "change.applied", Detail: "20000 – 60999 on host lb-1"}, nil); err != nil {
			t.Fatal(err)
		}
		for name, want := range map[string][]string{
			"lb-1": {"20000 – 60999 on host lb-1", `host "lb-1" revoked`, `host "lb-1" enrolled`},
			"lb_1": nil,
			"lb%":  nil,
		} {
			got, err := d.AuditForHost(t.Context(), name, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("%s: %d events, want %d", name, len(got), len(want))
			}
			for i := range want {
				if got[i].Detail != want[i] {
					t.Errorf("%s: event %d = %q, want %q", name, i, got[i].Detail, want[i])
				}
			}
		}
	})
}
