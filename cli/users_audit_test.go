package cli

import (
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"portpanel/db"
	"portpanel/db/dbtest"
)

// TestAccountChangesLandWithTheirAuditEvent makes the audit insert fail
// under each account change the CLI makes: the command must fail and
// change nothing, and succeed with its record once the fault is gone.
func TestAccountChangesLandWithTheirAuditEvent(t *testing.T) {
	const password = "a long enough password\n"
	tests := []struct {
		name, action string
		stdin        string
		first        [][]string // run before the fault
		args         []string
	}{
		{name: "add", action: "user.created", stdin: password, args: []string{"user", "add", "carol", "--role", "viewer", "--password-stdin"}},
		{name: "set-role", action: "user.role_changed", args: []string{"user", "set-role", "bob", "viewer"}},
		{name: "disable", action: "user.disabled", args: []string{"user", "disable", "bob"}},
		{name: "enable", action: "user.enabled", first: [][]string{{"user", "disable", "bob"}}, args: []string{"user", "enable", "bob"}},
		{name: "passwd", action: "user.password_reset", stdin: password, args: []string{"user", "passwd", "bob", "--password-stdin"}},
		{name: "token create", action: "token.created", args: []string{"token", "create", "--user", "bob"}},
		{name: "token revoke", action: "token.revoked", first: [][]string{{"token", "create", "--user", "bob"}}, args: []string{"token", "revoke", "1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "pp.db")
			run := func(stdin string, args ...string) (int, string) {
				cmd := portpanelCmd(append(args, "--db", path)...)
				cmd.Stdin = strings.NewReader(stdin)
				out, err := cmd.CombinedOutput()
				var exit *exec.ExitError
				if errors.As(err, &exit) {
					return exit.ExitCode(), string(out)
				} else if err != nil {
					t.Fatal(err)
				}
				return 0, string(out)
			}
			first := append([][]string{
				{"user", "add", "root", "--role", "admin", "--password-stdin"},
				{"user", "add", "bob", "--role", "operator", "--password-stdin"},
			}, tt.first...)
			for _, args := range first {
				if code, out := run(password, args...); code != 0 {
					t.Fatalf("portpanel %s: exit %d\n%s", strings.Join(args, " "), code, out)
				}
			}
			d, err := db.Open(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			before := dbtest.Accounts(t, d)
			dbtest.FailAudit(t, d)
			if code, out := run(tt.stdin, tt.args...); code != 1 || !strings.Contains(out, "fault injected") {
				t.Errorf("with the audit insert failing: exit %d\n%s\nwant 1 and the injected fault", code, out)
			}
			if after := dbtest.Accounts(t, d); after != before {
				t.Fatalf("the change landed without its audit event:\nbefore\n%s\nafter\n%s", before, after)
			}
			dbtest.HealAudit(t, d)
			if code, out := run(tt.stdin, tt.args...); code != 0 {
				t.Fatalf("without the fault: exit %d\n%s", code, out)
			}
			if dbtest.Accounts(t, d) == before {
				t.Fatal("without the fault the change changed nothing: the test proves nothing")
			}
			if ev, err := d.Audit(context.Background(), 1, 0); err != nil || len(ev) != 1 || ev[0].Action != tt.action || ev[0].User != cliActor {
				t.Errorf("newest audit event = %+v, %v; want %s by %s", ev, err, tt.action, cliActor)
			}
		})
	}
}
