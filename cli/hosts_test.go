package cli

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"portpanel/agentapi"
	"portpanel/db"
	"portpanel/fleet"
	"portpanel/sysctl/sysctltest"
)

// enroll create on the database prints the token alone on its first
// line; list shows it unused, then used by the host that spent it;
// revoke refuses a used token and revokes an unused one.
func TestEnrollCLIOnDB(t *testing.T) {
	t.Setenv("PORTPANEL_URL", "x")
	path := filepath.Join(t.TempDir(), "pp.db")
	withDB(t, path, func(*db.DB) {})
	run := func(args ...string) result { return runMain(append(args, "--db", path)...) }
	r := run("enroll", "create", "--group", "proxies", "--ttl", "30m")
	lines := strings.Split(r.stdout, "\n")
	if r.code != 0 || len(lines) != 2 || !strings.HasPrefix(lines[0], "ppe_") || !strings.Contains(r.stderr, "group proxies") {
		t.Fatalf("create: %s", r)
	}
	for _, bad := range [][]string{{"--group", "proxies", "--ttl", "25h"}, {"--group", "a b"}, {"--ttl", "1h"}} {
		if r := run(append([]string{"enroll", "create"}, bad...)...); r.code != exitUsage {
			t.Errorf("create %v: want exit %d; %s", bad, exitUsage, r)
		}
	}
	if r := run("enroll", "list"); r.code != 0 || !strings.Contains(r.stdout, "proxies") || !strings.Contains(r.stdout, "unused") {
		t.Errorf("list: %s", r)
	}
	withDB(t, path, func(d *db.DB) {
		pub, _, err := agentapi.GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := (&fleet.Service{DB: d}).Enroll(context.Background(), agentapi.EnrollRequest{Token: lines[0], Name: "lb-01",
			PublicKey: agentapi.EncodePublicKey(pub)}, "test"); err != nil {
			t.Fatal(err)
		}
	})
	if r := run("enroll", "list"); r.code != 0 || !strings.Contains(r.stdout, "by lb-01") {
		t.Errorf("list after use: %s", r)
	}
	if r := run("enroll", "revoke", "1"); r.code == 0 || !strings.Contains(r.stderr, "used or revoked already") {
		t.Errorf("revoke a used token: %s", r)
	}
	run("enroll", "create", "--group", "db")
	if r := run("enroll", "revoke", "2"); r.code != 0 || !strings.Contains(r.stdout, "revoked enrollment token #2") {
		t.Errorf("revoke: %s", r)
	}
	r = run("enroll", "list", "-o", "json")
	var out struct{ Enrollments []enrollment }
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || len(out.Enrollments) != 2 || out.Enrollments[0].RevokedAt == nil {
		t.Errorf("list as JSON: %v; %s", err, r)
	}
}

// Through the API: an admin's token creates a token; a viewer's cannot;
// hosts lists the fleet paged to the end, filters on the server, and
// hosts show gives one host; their JSON is the API's.
func TestHostsCLI(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	e := newClientEnv(t)
	withDB(t, e.db, func(d *db.DB) {
		if _, err := d.CreateUser(context.Background(), "root", "admin", "no password", nil); err != nil {
			t.Fatal(err)
		}
	})
	e.tokens["root"] = strings.TrimSpace(e.admin("", "token", "create", "--user", "root"))
	r := e.as("root", "enroll", "create", "--group", "proxies")
	token := strings.SplitN(r.stdout, "\n", 2)[0]
	if r.code != 0 || !strings.HasPrefix(token, "ppe_") {
		t.Fatalf("enroll create through the API: %s", r)
	}
	if r := e.as("vic", "enroll", "create", "--group", "proxies"); r.code != exitFailed || !strings.Contains(r.stderr, "403") {
		t.Errorf("a viewer's enroll create: want exit %d naming 403; %s", exitFailed, r)
	}
	withDB(t, e.db, func(d *db.DB) {
		f := &fleet.Service{DB: d}
		pub, _, err := agentapi.GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		h, err := f.Enroll(context.Background(), agentapi.EnrollRequest{Token: token, Name: "lb-01", PublicKey: agentapi.EncodePublicKey(pub), Version: "1.9.0"}, "test")
		if err != nil {
			t.Fatal(err)
		}
		o, _ := json.Marshal(agentapi.Observed{Runtime: agentapi.Range{Low: 20000, High: 60999},
			Boot: agentapi.Boot{Range: agentapi.Range{Low: 32768, High: 60999}, Set: true, File: "/etc/sysctl.conf", Line: 3, Reader: "procps"}, Drift: true})
		if _, err := d.RecordHostReport(context.Background(), h.ID, db.HostReport{At: time.Now(), Version: "1.9.0", PollSeconds: 30, Observed: o}); err != nil {
			t.Fatal(err)
		}
	})
	r = e.as("vic", "hosts")
	if r.code != 0 || !strings.Contains(r.stdout, "lb-01") || !strings.Contains(r.stdout, "20000–60999") || !strings.Contains(r.stdout, "drift") {
		t.Errorf("hosts: %s", r)
	}
	if r := e.as("vic", "hosts", "--state", "stale"); r.code != 0 || strings.Contains(r.stdout, "lb-01") {
		t.Errorf("hosts --state stale lists the drifting host: %s", r)
	}
	if r := e.as("vic", "hosts", "--state", "green"); r.code != exitUsage {
		t.Errorf("an unknown state: want exit %d; %s", exitUsage, r)
	}
	r = e.as("vic", "hosts", "show", "lb-01")
	if r.code != 0 || !strings.Contains(r.stdout, "/etc/sysctl.conf:3") || !strings.Contains(r.stdout, "host.enrolled") {
		t.Errorf("hosts show: %s", r)
	}
	r = e.as("vic", "hosts", "show", "lb-01", "-o", "json")
	sameJSON(t, "host", []byte(r.stdout), e.api("vic", "GET", "/api/v1/hosts/lb-01", ""))
	if r := e.as("vic", "hosts", "show", "nope"); r.code == 0 || !strings.Contains(r.stderr, "No such host") {
		t.Errorf("hosts show of an unknown host: %s", r)
	}
}

func TestAgentURL(t *testing.T) {
	for _, c := range []struct {
		listen string
		tls    bool
		want   string
	}{
		{"", true, ""},
		{"unix:/run/portpanel/agent.sock", false, "unix:///run/portpanel/agent.sock"},
		{"unix:///run/portpanel/agent.sock", true, "unix:///run/portpanel/agent.sock"},
		{"panel.example:8443", true, "https://panel.example:8443"},
		{"panel.example:8443", false, ""},
		{":8443", true, ""},
		{"0.0.0.0:8443", true, ""},
		{"[::]:8443", true, ""},
		{"10.0.0.1:8443", true, "https://10.0.0.1:8443"},
	} {
		if got := agentURL(c.listen, c.tls); got != c.want {
			t.Errorf("agentURL(%q, tls %v) = %q, want %q", c.listen, c.tls, got, c.want)
		}
	}
}
