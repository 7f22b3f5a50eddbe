package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"portpanel/db"
	"portpanel/sysctl/sysctltest"
)

// localPanel is a serve in fleet mode with its own host enrolled, on the
// real kernel of a private network namespace.
type localPanel struct {
	t                 *testing.T
	dir, dbPath, file string
	url, token        string
	stop              func()
	log               *servedLog
}

func newLocalPanel(t *testing.T) *localPanel {
	if out, err := exec.Command("ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("ip link set lo up: %v\n%s", err, out)
	}
	p := &localPanel{t: t, dir: t.TempDir()}
	p.dbPath = filepath.Join(p.dir, "pp.db")
	p.file = filepath.Join(p.dir, "etc", "sysctl.d", "90-portpanel.conf")
	if err := os.MkdirAll(filepath.Dir(p.file), 0o755); err != nil {
		t.Fatal(err)
	}
	withDB(t, p.dbPath, func(d *db.DB) {
		if _, err := d.CreateUser(context.Background(), "alice", "admin", "no password", nil); err != nil {
			t.Fatal(err)
		}
	})
	var out bytes.Buffer
	if err := Run(context.Background(), []string{"token", "create", "--user", "alice", "--db", p.dbPath}, strings.NewReader(""), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	p.token = strings.TrimSpace(out.String())
	return p
}

// start runs serve until the returned stop; the local host is named lh1.
func (p *localPanel) start() {
	t := p.t
	args := []string{"--addr", "127.0.0.1:0", "--db", p.dbPath, "--sysctl-file", p.file, "--config-root", p.dir,
		"--boot-reader", "procps", "--sample-interval", "1h", "--agent-listen", "unix:" + filepath.Join(p.dir, "agent.sock"),
		"--local-host", "lh1"}
	p.log = &servedLog{port: make(chan string, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, args, io.Discard, p.log) }()
	p.stop = func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}
	select {
	case port := <-p.log.port:
		p.url = "http://127.0.0.1:" + port
	case err := <-done:
		t.Fatalf("serve stopped before listening: %v\n%s", err, p.log)
	case <-time.After(30 * time.Second):
		t.Fatalf("no \"portpanel listening\" line after 30s:\n%s", p.log)
	}
}

func (p *localPanel) do(method, path, body string) (int, map[string]any) {
	p.t.Helper()
	req, _ := http.NewRequest(method, p.url+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+p.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &out); err != nil {
		p.t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	return resp.StatusCode, out
}

// waitRuntime waits until the local host's report shows want as its
// runtime range ("" : any report).
func (p *localPanel) waitRuntime(want string) map[string]any {
	p.t.Helper()
	var h map[string]any
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		_, h = p.do("GET", "/api/v1/hosts/lh1", "")
		if rt, ok := h["runtime"].(map[string]any); ok {
			got := jsonNum(rt["low"]) + " " + jsonNum(rt["high"])
			if want == "" || got == want {
				return h
			}
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("the local host's report never showed runtime %q: %v\n%s", want, h, p.log)
		}
	}
}

func jsonNum(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// The panel's own host is in its fleet: listed once serve starts, with
// its report; a change sent to it by name is applied by the panel's own
// change service once (one row, one audit event per step); a change from
// the dashboard shows in its next report; a restart enrolls nothing and
// applies nothing.
func TestLocalHost(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	p := newLocalPanel(t)
	p.start()
	before := kernelRange(t)
	h := p.waitRuntime(before)
	if h["name"] != "lh1" || h["group"] != localHostGroup {
		t.Errorf("local host: %v", h)
	}
	if code, list := p.do("GET", "/api/v1/hosts", ""); code != 200 || len(list["hosts"].([]any)) != 1 {
		t.Errorf("GET /api/v1/hosts: %d %v", code, list)
	}
	if fi, err := os.Stat(filepath.Join(p.dir, "local-host", "host.key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("local host key: %v %v, want mode 0600", fi, err)
	}

	// Its preview is the panel's own: the diff of the local file, nothing written.
	code, pv := p.do("POST", "/api/v1/hosts/lh1/changes", `{"low":20000,"high":40000,"reason":"preview","dry_run":true}`)
	if diff, _ := pv["diff"].(string); code != http.StatusOK || pv["host"] != "lh1" || !strings.Contains(diff, "+net.ipv4.ip_local_port_range = 20000 40000") {
		t.Errorf("dry run on the local host: %d %v", code, pv)
	}
	if got := kernelRange(t); got != before {
		t.Errorf("kernel after a dry run: %q, want %q", got, before)
	}

	// A change to the local host by name.
	code, ch := p.do("POST", "/api/v1/hosts/lh1/changes", `{"low":20000,"high":40000,"reason":"remote to the local host"}`)
	if code != http.StatusCreated || ch["status"] != "applied" {
		t.Fatalf("POST /api/v1/hosts/lh1/changes: %d %v\n%s", code, ch, p.log)
	}
	if got := kernelRange(t); got != "20000 40000" {
		t.Errorf("kernel after the remote change: %q", got)
	}
	if b, err := os.ReadFile(p.file); err != nil || strings.Count(string(b), "net.ipv4.ip_local_port_range") != 1 || !strings.Contains(string(b), "20000") {
		t.Errorf("%s after the remote change: %q, %v", p.file, b, err)
	}
	p.waitRuntime("20000 40000")
	if code, list := p.do("GET", "/api/v1/hosts/lh1/changes", ""); code != 200 || len(list["changes"].([]any)) != 1 {
		t.Errorf("GET /api/v1/hosts/lh1/changes: %d %v", code, list)
	}

	// A change from the dashboard, the local API: the next report has it.
	if code, ch := p.do("POST", "/api/v1/changes", `{"low":21000,"high":41000,"reason":"from the dashboard"}`); code != http.StatusCreated {
		t.Fatalf("POST /api/v1/changes: %d %v", code, ch)
	}
	h = p.waitRuntime("21000 41000")
	if h["generation"].(float64) != 0 {
		t.Errorf("a local change became a desired generation: %v", h)
	}
	// Revoked, it takes no change by name; the dashboard still changes it.
	if code, out := p.do("POST", "/api/v1/hosts/lh1/revoke", ""); code != http.StatusOK {
		t.Fatalf("revoke lh1: %d %v", code, out)
	}
	if code, out := p.do("POST", "/api/v1/hosts/lh1/changes", `{"low":22000,"high":42001,"reason":"after the revocation"}`); code != http.StatusConflict {
		t.Errorf("a change to the revoked local host: %d %v, want 409", code, out)
	}
	if got := kernelRange(t); got != "21000 41000" {
		t.Errorf("kernel after a refused change: %q", got)
	}
	p.stop()
	counts := func() (changes, enrolled, applied int) {
		withDB(t, p.dbPath, func(d *db.DB) {
			cs, err := d.Changes(context.Background(), 100, 0)
			if err != nil {
				t.Fatal(err)
			}
			changes = len(cs)
			evs, err := d.Audit(context.Background(), 1000, 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range evs {
				switch e.Action {
				case "host.enrolled":
					enrolled++
				case "change.applied":
					applied++
				}
			}
		})
		return
	}
	c1, e1, a1 := counts()
	if c1 != 2 || e1 != 1 || a1 != 2 {
		t.Errorf("after two changes: %d change rows, %d enrollments, %d applied events; want 2, 1, 2", c1, e1, a1)
	}

	// A restart: no enrollment (revoked stays revoked), no apply, the
	// kernel as it was.
	p.start()
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(p.log.String(), "is not part of the fleet"); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("a restart after the revocation does not say the local host stays out:\n%s", p.log)
		}
	}
	p.stop()
	if c2, e2, a2 := counts(); c2 != c1 || e2 != e1 || a2 != a1 {
		t.Errorf("after a restart: %d change rows, %d enrollments, %d applied events; want %d, %d, %d", c2, e2, a2, c1, e1, a1)
	}
	if got := kernelRange(t); got != "21000 41000" {
		t.Errorf("kernel after the restart: %q", got)
	}
}

// Which host the panel enrolls as its own: the hostname in fleet mode on
// SQLite, none without an agent listener or on PostgreSQL, and what
// --local-host says when it is given ("" none).
func TestLocalHostName(t *testing.T) {
	hostname, _ := os.Hostname()
	t.Setenv("PORTPANEL_LOCAL_HOST", "")
	os.Unsetenv("PORTPANEL_LOCAL_HOST")
	sock := "unix:" + filepath.Join(t.TempDir(), "agent.sock")
	for _, tt := range []struct {
		args []string
		want string
	}{
		{nil, ""},
		{[]string{"--agent-listen", sock}, hostname},
		{[]string{"--agent-listen", sock, "--local-host", ""}, ""},
		{[]string{"--agent-listen", sock, "--local-host", "edge-1"}, "edge-1"},
		{[]string{"--local-host", "edge-1"}, "edge-1"},
		{[]string{"--agent-listen", sock, "--db", "postgres:///pp?host=/run/postgresql"}, ""},
		{[]string{"--agent-listen", sock, "--db", "postgres:///pp?host=/run/postgresql", "--local-host", "edge-1"}, "edge-1"},
	} {
		c, err := parseServe(tt.args, io.Discard)
		if err != nil {
			t.Fatalf("%v: %v", tt.args, err)
		}
		if got, err := c.localHostName(); got != tt.want || err != nil {
			t.Errorf("%v: local host %q, %v; want %q", tt.args, got, err, tt.want)
		}
	}
	if _, err := parseServe([]string{"--local-host", "a b"}, io.Discard); err == nil {
		t.Error("--local-host 'a b' was accepted")
	}
}
