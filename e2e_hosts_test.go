package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"portpanel/agentapi"
	"portpanel/sysctl/sysctltest"
)

// e2eAgent speaks the agent API over the control plane's Unix socket as
// portpanel agent does: enrollment with a token, then signed requests.
type e2eAgent struct {
	t    *testing.T
	name string
	key  ed25519.PrivateKey
	http *http.Client
}

func newAgent(t *testing.T, sock, name string) *e2eAgent {
	_, key, err := agentapi.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}
	return &e2eAgent{t: t, name: name, key: key, http: &http.Client{Transport: tr, Timeout: stepTimeout}}
}

// send makes one request of the agent API (signed unless it enrolls) and
// returns its status.
func (a *e2eAgent) send(path string, v any) int {
	a.t.Helper()
	body, err := json.Marshal(v)
	if err != nil {
		a.t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, "http://agent"+path, bytes.NewReader(body))
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if path != agentapi.PathEnroll {
		if err := agentapi.Sign(req, body, a.name, a.key, time.Now()); err != nil {
			a.t.Fatal(err)
		}
	}
	res, err := a.http.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", a.name, path, err)
	}
	res.Body.Close()
	return res.StatusCode
}

func (a *e2eAgent) enroll(token string) {
	a.t.Helper()
	pub := a.key.Public().(ed25519.PublicKey)
	if got := a.send(agentapi.PathEnroll, agentapi.EnrollRequest{Token: token, Name: a.name, PublicKey: agentapi.EncodePublicKey(pub), Version: "e2e"}); got != http.StatusOK {
		a.t.Fatalf("enroll %s: %d, want 200", a.name, got)
	}
}

// report sends what a host observes: runtime low–high, booting with
// 32768–60999 from /etc/sysctl.d/90-portpanel.conf:2.
func (a *e2eAgent) report(low, high, poll int) int {
	a.t.Helper()
	o := agentapi.Observed{Runtime: agentapi.Range{Low: low, High: high},
		Boot:  agentapi.Boot{Range: agentapi.Range{Low: 32768, High: 60999}, Set: true, File: "/etc/sysctl.d/90-portpanel.conf", Line: 2, Reader: "systemd"},
		Drift: low != 32768 || high != 60999, UnprivilegedPortStart: 1024, File: "/etc/sysctl.d/90-portpanel.conf",
		Usage: &agentapi.Usage{At: time.Now(), Total: 1234, ByState: map[string]int{"established": 1000, "time-wait": 234},
			Busiest: &agentapi.Destination{Address: "10.0.3.7:5432", Count: 800}, Risk: "ok"},
		Listeners: []agentapi.Listener{{Port: 45000, Proto: "tcp", Process: "haproxy"}},
	}
	return a.send(agentapi.PathReport, agentapi.Report{At: time.Now(), Version: "e2e", PollSeconds: poll, Observed: o})
}

// An admin creates an enrollment token on the page, an agent enrolls with
// it through the real agent API and reports; the Hosts page shows it (and
// a stale host never green), the host page its report, the token list who
// used it; revoking the host on its page makes its next request 401.
func TestBrowserHosts(t *testing.T) {
	chromium := findChromium(t)
	if !sysctltest.InNetns(t) {
		return
	}
	host := newHost(t)
	sock := filepath.Join(t.TempDir(), "agent.sock")
	// No local host: the page starts empty, with the agents below only.
	srv := startServer(t, host, "--agent-listen", "unix:"+sock, "--local-host", "")
	b := newBrowser(t, chromium, srv, e2eTimeout)
	b.open(srv.setupURL, "/setup")
	b.typeInto("#username", e2eUser)
	b.typeInto("#password", e2ePassword)
	b.typeInto("#password2", e2ePassword)
	b.submit(`[data-testid="setup-form"] button[type="submit"]`, "/")

	b.open("/hosts", "/hosts")
	b.wantContains(`[data-testid="empty"]`, "No hosts yet.")
	b.submit(`[data-testid="enroll-link"]`, "/enrollments")
	b.typeInto("#enroll-group", "proxies")
	if status := b.load("create the token", chromedp.Click(chromedp.CSS(`[data-testid="create-enrollment"]`), chromedp.NodeVisible)); status != http.StatusCreated {
		b.fatalf("create the enrollment token: status %d, want 201", status)
	}
	token := b.value(`[data-testid="enroll-token"]`)
	if !strings.HasPrefix(token, "ppe_") {
		b.fatalf("the page shows the token %q", token)
	}
	b.wantText(`[data-testid="enroll-command"]`, "portpanel agent --server unix://"+sock+" --enroll-token TOKEN --state-dir /var/lib/portpanel-agent")
	b.screenshot("enrollment-created")

	lb := newAgent(t, sock, "lb-01")
	lb.enroll(token)
	if got := lb.report(32768, 60999, 30); got != http.StatusNoContent {
		t.Fatalf("report: %d, want 204", got)
	}
	// Two more hosts, with tokens from the command line: one drifts, one
	// stops reporting (a 1 s poll: stale after 3 s).
	for _, h := range []struct {
		name, group string
		low, poll   int
	}{{"db-01", "db", 20000, 30}, {"lb-02", "proxies", 32768, 1}} {
		a := newAgent(t, sock, h.name)
		a.enroll(strings.TrimSpace(srv.cli("", "enroll", "create", "--group", h.group)))
		// db-01 reports the boot value first, then a range set by hand:
		// its chart marks the change.
		for _, low := range []int{32768, h.low} {
			if got := a.report(low, 60999, h.poll); got != http.StatusNoContent {
				t.Fatalf("report of %s: %d", h.name, got)
			}
			time.Sleep(1100 * time.Millisecond)
		}
	}
	time.Sleep(2500 * time.Millisecond)

	b.open("/hosts", "/hosts")
	b.wantRows(`[data-testid="host-row"]`, [][]string{
		{"db-01", "db", "≠ drift", "20000 – 60999", "*", "≠ differs", "✓ OK", "*", "nothing yet", "e2e"},
		{"lb-01", "proxies", "✓ ok", "32768 – 60999", "32768 – 60999 /etc/sysctl.d/90-portpanel.conf:2", "none", "✓ OK", "*", "nothing yet", "e2e"},
		{"lb-02", "proxies", "⌛ stale", "32768 – 60999", "*", "none", "ok at last report", "*", "nothing yet", "e2e"},
	})
	b.wantNone(`[data-host="lb-02"] .pill-ok`)
	b.wantText(`[data-testid="state-count"][data-state="stale"]`, "1 ⌛ stale")
	b.screenshot("hosts")

	b.open("/hosts?state=stale", "/hosts")
	b.wantRows(`[data-testid="host-row"]`, [][]string{{"lb-02", "*", "⌛ stale", "*", "*", "*", "*", "*", "*", "*"}})

	b.open("/hosts/lb-01", "/hosts/lb-01")
	b.wantText(`[data-testid="host-title"]`, "lb-01")
	b.wantText(`[data-testid="host"] .host-name`, "lb-01")
	b.wantText(`[data-testid="range-value"]`, "32768 – 60999")
	b.wantText(`[data-testid="boot-where"]`, "/etc/sysctl.d/90-portpanel.conf:2")
	b.wantText(`[data-testid="usage-busiest"]`, "10.0.3.7:5432 800 connections")
	b.wantVisible(`[data-testid="history-chart"] svg`)
	b.wantContains(`[data-testid="audit-row"]`, "host.enrolled")
	b.screenshot("host")

	b.open("/hosts/db-01", "/hosts/db-01")
	b.wantVisible(`[data-testid="drift"]`)
	b.wantMatch(`[data-testid="history-chart"] [data-testid="markers"] > * > title`, regexp.MustCompile(`changed outside portpanel to 20000 – 60999$`))
	b.screenshot("host-drift")

	b.open("/enrollments", "/enrollments")
	b.wantContains(`[data-testid="enrollment-row"]:last-child [data-testid="enrollment-host"]`, "lb-01")

	b.open("/hosts/lb-01", "/hosts/lb-01")
	b.submit(`[data-testid="revoke-host"]`, "/hosts/lb-01")
	b.wantContains(`[data-testid="flash"]`, "Revoked lb-01")
	b.wantVisible(`[data-testid="revoked-note"]`)
	b.wantNone(`[data-testid="revoke-host"]`)
	if got := lb.report(32768, 60999, 30); got != http.StatusUnauthorized {
		t.Errorf("a report after the revocation: %d, want 401", got)
	}
	b.wantNoConsoleErrors()
	srv.wantNoErrors()
}

// value is the value of the input sel.
func (b *e2eBrowser) value(sel string) string {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(sel)))
	if err != nil {
		b.fatalf("read %s: %v", sel, err)
	}
	return v
}
