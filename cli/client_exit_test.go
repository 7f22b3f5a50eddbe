package cli

import (
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"portpanel/sysctl/sysctltest"
)

// TestClientExitStatuses provokes each exit status of the client with a
// real answer of a real panel, or a real failure to reach it.
func TestClientExitStatuses(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	e := newClientEnv(t)
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	nobody := "http://" + closed.Addr().String()
	closed.Close() // nothing listens there now
	tests := []struct {
		name string
		r    func() result
		code int
		says string // on stderr
	}{
		{"status reads", func() result { return e.as("vic", "status") }, exitOK, ""},
		{"a viewer may not change the range", func() result { return e.as("vic", "change", "20000", "60999", "--reason", "r", "--yes") },
			exitFailed, "403: your role viewer cannot change the range; an operator, approver or admin must"},
		{"an operator may not approve", func() result { return e.as("alice", "approve", "1") },
			exitFailed, "403: your role operator cannot approve changes; an approver or admin must"},
		{"a value the kernel would refuse", func() result { return e.as("alice", "change", "100", "50999", "--reason", "r", "--yes") },
			exitFailed, "422: "},
		{"no such change", func() result { return e.as("vic", "show", "99") }, exitFailed, "404: Not found"},
		{"a missing argument", func() result { return e.as("alice", "change", "40000") }, exitUsage, "change needs LOW HIGH"},
		{"a missing reason", func() result { return e.as("alice", "change", "20000", "60999") }, exitUsage, `required flag(s) "reason" not set`},
		{"an unknown flag", func() result { return e.as("vic", "status", "--colour") }, exitUsage, "unknown flag: --colour"},
		{"an unknown status", func() result { return e.as("vic", "changes", "--status", "done") }, exitUsage, `--status "done"`},
		{"an ID that is no number", func() result { return e.as("vic", "show", "latest") }, exitUsage, `"latest" is no change ID`},
		{"an unknown output", func() result { return e.as("vic", "status", "-o", "yaml") }, exitUsage, `--output "yaml"`},
		{"a bad window", func() result { return e.as("vic", "history", "--window", "soon") }, exitUsage, `--window "soon"`},
		{"without a terminal, a change needs --yes", func() result { return e.as("alice", "change", "20000", "60999", "--reason", "r") },
			exitUsage, "no terminal to ask on; add --yes"},
		{"no token", func() result { return e.as("", "status") }, exitUnreachable, "401: Sign in or send an API token; no API token given"},
		{"a wrong token", func() result { return runMain("status", "--server", e.url, "--token", "pp_wrong") },
			exitUnreachable, "401: Unknown or revoked API token; the token from --token was refused"},
		{"nothing listens", func() result { return runMain("status", "--server", nobody, "--token", e.tokens["vic"]) },
			exitUnreachable, "cannot reach the panel at " + nobody},
		{"a server that is no URL", func() result { return runMain("status", "--server", "127.0.0.1:8080") }, exitUsage, "give http://HOST:PORT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.r()
			if r.code != tt.code || !strings.Contains(r.stderr, tt.says) {
				t.Errorf("want exit %d saying %q; %s", tt.code, tt.says, r)
			}
		})
	}
	if got := kernelRange(t); got != "32768 60999" {
		t.Errorf("kernel %s after refused commands, want it untouched", got)
	}

	t.Run("the token file is used only when no one else may read it", func(t *testing.T) {
		dir := filepath.Join(os.Getenv("XDG_CONFIG_HOME"), "portpanel")
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(dir, "token")
		if err := os.WriteFile(file, []byte(e.tokens["vic"]+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		r := e.as("", "status")
		if r.code != exitUnreachable || !strings.Contains(r.stderr, "has mode 0644: others may read it") || !strings.Contains(r.stderr, "chmod 600 "+file) {
			t.Errorf("mode 0644: want exit 6 saying so; %s", r)
		}
		if err := os.Chmod(file, 0o600); err != nil {
			t.Fatal(err)
		}
		if r := e.as("", "status"); r.code != exitOK {
			t.Errorf("mode 0600: %s", r)
		}
	})

	t.Run("PORTPANEL_URL and PORTPANEL_TOKEN", func(t *testing.T) {
		t.Setenv("PORTPANEL_URL", e.url)
		t.Setenv("PORTPANEL_TOKEN", e.tokens["vic"])
		if r := runMain("usage"); r.code != exitOK || !strings.Contains(r.stdout, "127.0.0.1:5432") {
			t.Errorf("%s", r)
		}
	})

	t.Run("a unix socket", func(t *testing.T) {
		sock := filepath.Join(t.TempDir(), "portpanel.sock")
		ln, err := net.Listen("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		// A proxy on the socket, as a front end on the host would be.
		target, _ := url.Parse(e.url)
		srv := &http.Server{Handler: httputil.NewSingleHostReverseProxy(target)}
		go srv.Serve(ln)
		t.Cleanup(func() { srv.Close() })
		r := runMain("status", "--server", "unix://"+sock, "--token", e.tokens["vic"])
		if want := e.as("vic", "status"); r.code != exitOK || r.stdout != want.stdout {
			t.Errorf("over the socket:\n%s\nover TCP:\n%s", r, want)
		}
	})
}
