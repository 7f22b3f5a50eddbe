package main

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"portpanel/db"
)

// TestMain lets the test binary stand in for the portpanel binary: with
// PORTPANEL_RUN_MAIN=1 it runs main, so tests can check real exit codes.
func TestMain(m *testing.M) {
	if os.Getenv("PORTPANEL_RUN_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// portpanelCmd runs the portpanel CLI (this test binary, see TestMain).
func portpanelCmd(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "PORTPANEL_RUN_MAIN=1")
	return cmd
}

func TestAuditVerifyExitCode(t *testing.T) {
	tests := []struct {
		name    string
		tamper  []string
		wantBad string // "" for an intact log
	}{
		{name: "intact"},
		{name: "detail edited", tamper: []string{`UPDATE audit_events SET detail = 'nothing happened' WHERE id = 2`}, wantBad: "event 2"},
		{name: "row removed", tamper: []string{`DELETE FROM audit_events WHERE id = 2`}, wantBad: "event 3"},
		{name: "first row removed", tamper: []string{`DELETE FROM audit_events WHERE id = 1`}, wantBad: "event 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			path := filepath.Join(t.TempDir(), "pp.db")
			d, err := db.Open(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			for _, action := range []string{"server.start", "login.ok", "change.applied", "server.stop"} {
				if _, err := d.AppendAudit(ctx, db.AuditEvent{Action: action, Detail: action}); err != nil {
					t.Fatal(err)
				}
			}
			d.Close()

			// Behind the server's back: a raw connection, triggers dropped
			// first, as someone with write access to the file could.
			if len(tt.tamper) > 0 {
				raw, err := sql.Open("sqlite", path)
				if err != nil {
					t.Fatal(err)
				}
				for _, stmt := range append([]string{`DROP TRIGGER audit_events_no_update`, `DROP TRIGGER audit_events_no_delete`}, tt.tamper...) {
					if _, err := raw.Exec(stmt); err != nil {
						t.Fatalf("%s: %v", stmt, err)
					}
				}
				raw.Close()
			}

			out, err := portpanelCmd("audit", "verify", "--db", path).CombinedOutput()
			var exit *exec.ExitError
			switch {
			case tt.wantBad == "" && err != nil:
				t.Fatalf("audit verify of an intact log: %v\n%s", err, out)
			case tt.wantBad == "" && !strings.Contains(string(out), "4 events"):
				t.Fatalf("audit verify said %q, want 4 events verified", out)
			case tt.wantBad != "" && !errors.As(err, &exit):
				t.Fatalf("audit verify of a tampered log: err %v, want a non-zero exit\n%s", err, out)
			case tt.wantBad != "" && !strings.Contains(string(out), tt.wantBad):
				t.Fatalf("audit verify said %q, want it to name %s", out, tt.wantBad)
			}
		})
	}
}
