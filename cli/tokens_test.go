package cli

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"portpanel/auth"
	"portpanel/db"
)

// tokenCLI runs "portpanel token ARGS --db path" and returns stdout,
// stderr and the exit code.
func tokenCLI(t *testing.T, path string, args ...string) (string, string, int) {
	t.Helper()
	cmd := portpanelCmd(append(append([]string{"token"}, args...), "--db", path)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	code := 0
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatalf("run portpanel token %v: %v", args, err)
	}
	return stdout.String(), stderr.String(), code
}

// tokenDB is a database file with alice (operator) and bob (viewer).
func tokenDB(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "pp.db")
	d, err := db.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for name, role := range map[string]string{"alice": auth.RoleOperator, "bob": auth.RoleViewer} {
		if _, err := d.CreateUser(context.Background(), name, role, "h", nil); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// withDB opens path for a look behind the CLI's back.
func withDB(t *testing.T, path string, f func(*db.DB)) {
	t.Helper()
	d, err := db.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	f(d)
}

func TestTokenCLIRefuses(t *testing.T) {
	path := tokenDB(t)
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no user", []string{"create"}, 1, "--user is required"},
		{"unknown user", []string{"create", "--user", "nobody"}, 1, "not found"},
		{"a role above the user's", []string{"create", "--user", "bob", "--role", "operator"}, 1, "at most viewer"},
		{"an unknown role", []string{"create", "--user", "alice", "--role", "root"}, 1, "from the list"},
		{"an expiry in the past", []string{"create", "--user", "alice", "--expires", "2020-01-01"}, 1, "has passed"},
		{"an expiry without unit", []string{"create", "--user", "alice", "--expires", "90"}, 1, "90d"},
		{"an empty name", []string{"create", "--user", "alice", "--name", ""}, 1, "Give the token a name"},
		{"revoke without an id", []string{"revoke"}, 1, "give the ID"},
		{"revoke an unknown id", []string{"revoke", "42"}, 1, "not found"},
		{"an unknown subcommand", []string{"frob"}, 2, "create, list or revoke"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := tokenCLI(t, path, tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.msg) || stdout != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d saying %q", code, stdout, stderr, tt.code, tt.msg)
			}
		})
	}
	withDB(t, path, func(d *db.DB) {
		if all, err := d.AllTokens(context.Background()); err != nil || len(all) != 0 {
			t.Errorf("tokens after refused commands: %v, %v", all, err)
		}
	})
}

func TestTokenCLICreateListRevoke(t *testing.T) {
	path := tokenDB(t)
	ctx := context.Background()
	stdout, stderr, code := tokenCLI(t, path, "create", "--user", "alice", "--name", "deploy", "--role", "viewer", "--expires", "90d")
	secret := strings.TrimSuffix(stdout, "\n")
	if code != 0 || !strings.HasPrefix(secret, "pp_") || strings.Contains(secret, "\n") || !strings.Contains(stderr, "not shown again") {
		t.Fatalf("create: exit %d, stdout %q, stderr %q; want the secret alone on stdout", code, stdout, stderr)
	}
	if _, _, code := tokenCLI(t, path, "create", "--user", "alice"); code != 0 {
		t.Fatalf("create with defaults: exit %d", code)
	}
	withDB(t, path, func(d *db.DB) {
		sum := sha256.Sum256([]byte(secret))
		u, tok, err := d.UserByTokenHash(ctx, sum[:])
		in90 := time.Now().AddDate(0, 0, 90)
		if err != nil || u.Name != "alice" || tok.Name != "deploy" || tok.Role != auth.RoleViewer ||
			tok.ExpiresAt == nil || tok.ExpiresAt.Sub(in90).Abs() > time.Minute {
			t.Errorf("stored token = %+v of %s, %v; want alice's viewer token deploy expiring in 90 days", tok, u.Name, err)
		}
		all, err := d.AllTokens(ctx)
		if err != nil || len(all) != 2 || all[0].Name != "cli" || all[0].Role != auth.RoleOperator || all[0].ExpiresAt != nil {
			t.Errorf("tokens = %+v, %v; want the default one named cli, with alice's role, never expiring", all, err)
		}
	})

	stdout, _, code = tokenCLI(t, path, "list")
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if code != 0 || len(lines) != 3 || !strings.HasPrefix(lines[0], "ID") ||
		!strings.Contains(lines[2], `"deploy"`) || !strings.Contains(lines[2], "alice") || !strings.Contains(lines[2], "viewer") {
		t.Errorf("list: exit %d\n%s", code, stdout)
	}
	if strings.Contains(stdout, secret) {
		t.Error("list shows the secret")
	}
	if stdout, _, _ := tokenCLI(t, path, "list", "--user", "bob"); strings.Count(stdout, "\n") != 1 {
		t.Errorf("bob's list:\n%s\nwant the header only", stdout)
	}

	stdout, _, code = tokenCLI(t, path, "revoke", "1")
	if code != 0 || !strings.Contains(stdout, `revoked API token #1 "deploy" of alice`) {
		t.Errorf("revoke: exit %d, %q", code, stdout)
	}
	withDB(t, path, func(d *db.DB) {
		sum := sha256.Sum256([]byte(secret))
		if _, _, err := d.UserByTokenHash(ctx, sum[:]); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("revoked token still found: %v", err)
		}
		events, err := d.Audit(ctx, 10, 0)
		if err != nil || len(events) != 3 {
			t.Fatalf("audit = %+v, %v; want 3 events", events, err)
		}
		for i, want := range []string{"token.revoked", "token.created", "token.created"} {
			if events[i].Action != want || events[i].User != "cli" || strings.Contains(events[i].Detail, secret) {
				t.Errorf("event %d = %+v, want %s by cli without the secret", i, events[i], want)
			}
		}
		if !strings.Contains(events[2].Detail, "#"+strconv.Itoa(1)+` "deploy" for alice`) {
			t.Errorf("creation detail = %q", events[2].Detail)
		}
	})
}
