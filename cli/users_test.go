package cli

import (
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"portpanel/auth"
	"portpanel/db"
)

// TestUserCLI runs the user subcommands in order against one database, as
// root on the host would, checking exit codes, output and the audit log.
func TestUserCLI(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "pp.db")
	steps := []struct {
		name  string
		stdin string
		args  []string
		code  int    // exit status
		out   string // part of the combined output
	}{
		{"add the first admin", "root has a long password\n", []string{"add", "root", "--role", "admin", "--password-stdin"}, 0, "created user root (admin)"},
		{"add an operator, flags first", "bob has a long password\n", []string{"add", "--role", "operator", "--password-stdin", "bob"}, 0, "created user bob (operator)"},
		{"a common password is refused", "qwerty123456\n", []string{"add", "carol", "--role", "viewer", "--password-stdin"}, 1, "most common passwords"},
		{"a short password is refused", "short\n", []string{"add", "carol", "--role", "viewer", "--password-stdin"}, 1, "at least 12"},
		{"the user name as password is refused", "administrator\n", []string{"add", "administrator", "--role", "viewer", "--password-stdin"}, 1, "user name"},
		{"list", "", []string{"list"}, 0, "bob   operator  active"},
		{"the last admin cannot be disabled", "", []string{"disable", "root"}, 1, "last enabled admin"},
		{"the last admin cannot be demoted", "", []string{"set-role", "root", "viewer"}, 1, "last enabled admin"},
		{"disable", "", []string{"disable", "bob"}, 0, "disabled user bob"},
		{"list shows disabled", "", []string{"list"}, 0, "bob   operator  disabled"},
		{"enable", "", []string{"enable", "bob"}, 0, "enabled user bob"},
		{"set role", "", []string{"set-role", "bob", "admin"}, 0, "user bob: role operator → admin"},
		{"now root may be demoted", "", []string{"set-role", "root", "approver", "--db", path}, 0, "role admin → approver"},
		{"unknown role", "", []string{"set-role", "bob", "root"}, 1, `role "root"`},
		{"set-role without a role", "", []string{"set-role", "bob"}, 2, "needs NAME ROLE"},
		{"disable without a name", "", []string{"disable"}, 2, "needs NAME"},
		{"unknown user", "", []string{"disable", "nobody"}, 1, "not found"},
		{"unknown subcommand", "", []string{"frobnicate"}, 2, "user needs list, add"},
		{"unknown flag", "", []string{"list", "--colour"}, 2, "flag provided but not defined"},
		{"passwd needs stdin", "", []string{"passwd", "bob"}, 1, "--password-stdin"},
		{"passwd refuses a weak password", "password\n", []string{"passwd", "bob", "--password-stdin"}, 1, "at least 12"},
		{"passwd", "bob's recovered password\n", []string{"passwd", "bob", "--password-stdin"}, 0, "password of user bob set"},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			args := append([]string{"user"}, st.args...)
			if !strings.Contains(strings.Join(st.args, " "), "--db") {
				args = append(args, "--db", path)
			}
			cmd := portpanelCmd(args...)
			cmd.Stdin = strings.NewReader(st.stdin)
			out, err := cmd.CombinedOutput()
			code := 0
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				code = exit.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != st.code || !strings.Contains(string(out), st.out) {
				t.Errorf("portpanel %s: exit %d, output:\n%s\nwant exit %d and %q", strings.Join(args, " "), code, out, st.code, st.out)
			}
		})
	}

	d, err := db.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	bob, err := d.UserByName(ctx, "bob")
	if err != nil {
		t.Fatal(err)
	}
	if !auth.CheckPassword("bob's recovered password", bob.PasswordHash) || bob.MustChangePassword || bob.Disabled || bob.Role != auth.RoleAdmin {
		t.Errorf("bob after passwd = %+v; want the new password, no forced change, enabled admin", bob)
	}
	if bob.SessionEpoch != 2 { // disabled once, password set once
		t.Errorf("bob's session epoch = %d, want 2: disabling and passwd end sessions", bob.SessionEpoch)
	}
	events, err := d.Audit(ctx, 100, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i := len(events) - 1; i >= 0; i-- {
		e := events[i]
		if e.User != "cli" || !strings.HasSuffix(e.Detail, "from the command line") {
			t.Errorf("audit event %+v: want user cli and where it came from", e)
		}
		for _, st := range steps {
			if pw := strings.TrimSpace(st.stdin); st.code == 0 && pw != "" && strings.Contains(e.Detail, pw) {
				t.Errorf("audit event %d holds the password %q: %q", e.ID, pw, e.Detail)
			}
		}
		got = append(got, e.Action)
	}
	want := "user.created user.created user.disabled user.enabled user.role_changed user.role_changed user.password_reset"
	if strings.Join(got, " ") != want {
		t.Errorf("audit actions = %v, want %s", got, want)
	}
}
