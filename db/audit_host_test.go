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
		for name, want := range map[string][]string{
			"lb-1": {`host "lb-1" revoked`, `host "lb-1" enrolled`},
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
