package views_test

import (
	"strings"
	"testing"
	"time"

	"portpanel/agentapi"
	"portpanel/db"
	"portpanel/views"
)

// hostRows are an ok host, a stale one whose last report was fine, an
// observe-only one that drifts, and one that never reported.
func hostRows() []views.HostRow {
	boot := agentapi.Boot{Range: agentapi.Range{Low: 32768, High: 60999}, Set: true, File: "/etc/sysctl.d/90-portpanel.conf", Line: 2, Reader: "systemd"}
	return []views.HostRow{
		{Name: "lb-01", Group: "proxies", State: views.HostOK, Reported: true, Runtime: agentapi.Range{Low: 32768, High: 60999}, Boot: boot,
			Risk: "ok", LastSeen: tp(now.Add(-10 * time.Second)), Generation: 3, Applied: 3,
			AppliedAt: tp(now.Add(-time.Hour)), Version: "1.9.0", PollSeconds: 30, EnrolledAt: now.Add(-48 * time.Hour)},
		{Name: "lb-02", Group: "proxies", State: views.HostStale, Reported: true, Runtime: agentapi.Range{Low: 32768, High: 60999}, Boot: boot,
			Risk: "ok", LastSeen: tp(now.Add(-20 * time.Minute)), Generation: 4, Applied: 3,
			Version: "1.9.0", PollSeconds: 30, EnrolledAt: now.Add(-48 * time.Hour)},
		{Name: xssName, Group: "db", State: views.HostDrift, ObserveOnly: true, Reported: true, Runtime: agentapi.Range{Low: 20000, High: 60999},
			Boot: agentapi.Boot{Range: agentapi.Range{Low: 32768, High: 60999}, Reader: "procps"}, Drift: true, Risk: "critical",
			LastSeen: tp(now.Add(-time.Minute)), Version: "1.8.2", EnrolledAt: now.Add(-time.Hour)},
		{Name: "new-01", Group: "db", State: views.HostStale, EnrolledAt: now.Add(-time.Minute), Version: "1.9.0"},
	}
}

func hostsPage() views.HostsPage {
	counts := []views.StateCount{}
	for _, s := range views.HostStates {
		n := 0
		switch s {
		case views.HostOK, views.HostDrift:
			n = 1
		case views.HostStale:
			n = 2
		}
		counts = append(counts, views.StateCount{State: s, Count: n})
	}
	return views.HostsPage{Chrome: chrome("hosts"), Counts: counts, Total: 4, Groups: []string{"db", "proxies"},
		Hosts: hostRows(), Next: "new-01", Filter: views.HostFilter{Group: "db"}, CanEnroll: true}
}

func hostPage() views.HostPage {
	h := hostRows()[0]
	return views.HostPage{
		Chrome: chrome("hosts"), Host: h, CanRevoke: true,
		Observed: &agentapi.Observed{
			Runtime: h.Runtime, Boot: h.Boot, ReservedPorts: "8080", BootReservedPorts: "8080", UnprivilegedPortStart: 1024,
			Warnings:  []string{"low and high have the same parity"},
			Listeners: []agentapi.Listener{{Port: 40000, Proto: "tcp", Process: "haproxy"}},
			Usage: &agentapi.Usage{At: now.Add(-time.Minute), Total: 1234, ByState: map[string]int{"established": 1000, "time-wait": 234},
				Busiest: &agentapi.Destination{Address: "10.0.0.5:5432", Count: 800}, Risk: "warning", RiskNote: "800 of 28,232 ports to one destination"},
			File: "/etc/sysctl.d/90-portpanel.conf",
		},
		Results: []agentapi.Result{{Generation: 3, State: agentapi.ResultApplied, At: now.Add(-time.Hour)}},
		Window:  "24h", Chart: samples(), ChartFrom: now.Add(-24 * time.Hour), ChartTo: now, Marks: marks(changes()),
		Changes: changes(),
		Audit:   []db.AuditEvent{{ID: 9, At: now.Add(-time.Minute), User: "alice", Action: "host.enrolled", Detail: "host lb-01 enrolled into proxies"}},
	}
}

func enrollmentsPage() views.EnrollmentsPage {
	return views.EnrollmentsPage{Chrome: chrome("hosts"), Form: views.EnrollmentForm{TTL: "1h"}, Next: 1,
		Enrollments: []db.EnrollmentToken{
			{ID: 5, Group: "proxies", CreatedBy: "alice", CreatedAt: now.Add(-time.Minute), ExpiresAt: now.Add(59 * time.Minute)},
			{ID: 4, Group: "proxies", CreatedBy: "alice", CreatedAt: now.Add(-2 * time.Hour), ExpiresAt: now.Add(-time.Hour),
				UsedAt: tp(now.Add(-90 * time.Minute)), UsedBy: "lb-01"},
			{ID: 3, Group: "db", CreatedBy: "cli", CreatedAt: now.Add(-3 * time.Hour), ExpiresAt: now.Add(-2 * time.Hour)},
			{ID: 2, Group: "db", CreatedBy: "bob", CreatedAt: now.Add(-time.Hour), ExpiresAt: now.Add(time.Hour), RevokedAt: tp(now.Add(-time.Minute))},
		}}
}

func TestHostsList(t *testing.T) {
	doc, html := render(t, views.Hosts(hostsPage()))
	if strings.Contains(html, "<script>alert") {
		t.Error("a host name's markup reached the page unescaped")
	}
	counts := doc.Find(testid("state-count"))
	if counts.Length() != len(views.HostStates) {
		t.Fatalf("%d state counts, want one per state (%d), zeros too", counts.Length(), len(views.HostStates))
	}
	for i, want := range []string{"1 ✓ ok", "1 ≠ drift", "0 ↻ applying", "0 ✗ failed", "2 ⌛ stale", "0 ◎ observe-only", "0 ⊘ revoked"} {
		if got := text(counts.Eq(i)); got != want {
			t.Errorf("count %d = %q, want %q", i, got, want)
		}
	}
	if href, _ := counts.Eq(4).Attr("href"); href != "/hosts?group=db&state=stale" {
		t.Errorf("stale count links to %q, want the list filtered by it, keeping the group", href)
	}
	rows := doc.Find(testid("host-row"))
	if rows.Length() != 4 {
		t.Fatalf("%d rows, want 4", rows.Length())
	}
	// A stale host is never green, however fine its last report was.
	stale := rows.Eq(1)
	if stale.Find(".pill-ok").Length() != 0 || text(stale.Find(testid("host-state"))) != "⌛ stale" {
		t.Errorf("stale row state = %q with %d green pills, want ⌛ stale and none", text(stale.Find(testid("host-state"))), stale.Find(".pill-ok").Length())
	}
	if got := text(stale.Find(testid("host-applied"))); !strings.Contains(got, "gen 3") || !strings.Contains(got, "desired: gen 4") {
		t.Errorf("stale row applied = %q, want gen 3 and the desired gen 4 shown apart", got)
	}
	if got := text(stale.Find(testid("host-seen"))); !strings.Contains(got, "20 min ago") {
		t.Errorf("stale row last seen = %q", got)
	}
	xss := rows.Eq(2)
	if text(xss.Find(testid("host-name"))) != xssName || xss.Find(testid("observe-only")).Length() != 1 {
		t.Errorf("observe-only drifting host: name %q, observe-only marks %d", text(xss.Find(testid("host-name"))), xss.Find(testid("observe-only")).Length())
	}
	if got := text(xss.Find(testid("host-boot"))); got != "32768 – 60999 kernel default" {
		t.Errorf("kernel-default boot = %q", got)
	}
	if got := text(rows.Eq(0).Find(testid("host-boot"))); got != "32768 – 60999 /etc/sysctl.d/90-portpanel.conf:2" {
		t.Errorf("boot = %q, want the value and file:line", got)
	}
	if got := text(rows.Eq(3).Find(testid("host-unreported"))); got != "no report yet" {
		t.Errorf("unreported host = %q, want it said, not zeros", got)
	}
	if href, _ := doc.Find(testid("next")).Attr("href"); href != "/hosts?after=new-01&group=db" {
		t.Errorf("next page = %q, want it after the last name, keeping the filter", href)
	}
	if v, _ := doc.Find(`select[name="group"] option[selected]`).Attr("value"); v != "db" {
		t.Errorf("selected group = %q", v)
	}
	if doc.Find(testid("enroll-link")).Length() != 1 {
		t.Error("an admin sees no way to enroll a host")
	}
}

func TestHostsEmptyStates(t *testing.T) {
	p := hostsPage()
	p.Hosts, p.Next, p.CanEnroll = nil, "", false
	doc, _ := render(t, views.Hosts(p))
	if got := text(doc.Find(testid("empty"))); !strings.Contains(got, "No hosts match this filter") {
		t.Errorf("filtered empty = %q", got)
	}
	if doc.Find(testid("enroll-link")).Length() != 0 {
		t.Error("a viewer is offered to enroll a host")
	}
	p.Filter = views.HostFilter{}
	doc, _ = render(t, views.Hosts(p))
	if got := text(doc.Find(testid("empty"))); !strings.Contains(got, "portpanel agent --server") {
		t.Errorf("empty = %q, want it to say how a host joins", got)
	}
}

func TestHostPage(t *testing.T) {
	doc, _ := render(t, views.Host(hostPage()))
	for id, want := range map[string]string{
		"host-title":    "lb-01",
		"range-value":   "32768 – 60999",
		"boot-where":    "/etc/sysctl.d/90-portpanel.conf:2",
		"boot-reader":   "systemd-sysctl",
		"reserved":      "8080",
		"warnings":      "⚠ Warning: low and high have the same parity",
		"usage-total":   "1,234",
		"usage-busiest": "10.0.0.5:5432 800 connections",
		"host-version":  "1.9.0",
	} {
		if got := text(doc.Find(testid(id))); got != want {
			t.Errorf("%s = %q, want %q", id, got, want)
		}
	}
	if doc.Find(testid("listener-row")).Length() != 1 || doc.Find(testid("level")).AttrOr("data-level", "") != "warning" {
		t.Error("the listeners or the usage risk are missing")
	}
	if doc.Find(testid("history-chart")).Find(testid("markers")).Find("a").Length() == 0 {
		t.Error("the history chart has no change markers")
	}
	if href, _ := doc.Find(`nav.segmented a[aria-current="page"]`).Attr("href"); href != "/hosts/lb-01?window=24h" {
		t.Errorf("current window links to %q", href)
	}
	if doc.Find(testid("change-row")).Length() != 3 || doc.Find(testid("audit-row")).Length() != 1 {
		t.Error("the host's changes or audit events are missing")
	}
	if doc.Find(testid("change-row")).Find(`button`).Length() != 0 {
		t.Error("the host page offers a rollback button")
	}
	if a, _ := doc.Find(testid("revoke-host-form")).Attr("action"); a != "/hosts/lb-01/revoke" {
		t.Errorf("revoke posts to %q", a)
	}
	if doc.Find(testid("stale-note")).Length() != 0 {
		t.Error("a current host is called stale")
	}
}

func TestHostPageStaleUnreportedViewer(t *testing.T) {
	p := hostPage()
	p.Host = hostRows()[1]
	p.CanRevoke = false
	doc, _ := render(t, views.Host(p))
	if got := text(doc.Find(testid("stale-note"))); !strings.Contains(got, "No report for 20 min") {
		t.Errorf("stale note = %q", got)
	}
	if doc.Find(testid("revoke-host")).Length() != 0 {
		t.Error("a viewer is offered to revoke the host")
	}
	p.Observed, p.Host = nil, hostRows()[3]
	doc, _ = render(t, views.Host(p))
	if doc.Find(testid("no-report")).Length() != 1 || doc.Find(testid("range-value")).Length() != 0 {
		t.Error("a host without a report shows figures")
	}
}

func TestEnrollments(t *testing.T) {
	doc, html := render(t, views.Enrollments(enrollmentsPage()))
	states := doc.Find(testid("enrollment-state"))
	for i, want := range []string{"○ unused", "✓ used", "⌛ expired", "⊘ revoked"} {
		if got := text(states.Eq(i)); !strings.HasPrefix(got, want) {
			t.Errorf("token %d state = %q, want %q", i, got, want)
		}
	}
	if a, _ := doc.Find(testid("enrollment-host")).Eq(1).Find("a").Attr("href"); a != "/hosts/lb-01" {
		t.Errorf("used token links to host %q", a)
	}
	revoke := doc.Find(testid("revoke-enrollment"))
	if revoke.Length() != 1 {
		t.Errorf("%d Revoke buttons, want 1: only an unused, unexpired token can be revoked", revoke.Length())
	}
	if a, _ := revoke.Closest("form").Attr("action"); a != "/enrollments/5/revoke" {
		t.Errorf("revoke posts to %q", a)
	}
	if v, _ := doc.Find(`select[name="ttl"] option[selected]`).Attr("value"); v != "1h" {
		t.Errorf("selected ttl = %q", v)
	}
	if strings.Contains(html, "ppe_") {
		t.Error("the list shows something like a token")
	}
}

func TestEnrollmentCreated(t *testing.T) {
	p := views.EnrollmentCreatedPage{Chrome: chrome("hosts"), Enrollment: enrollmentsPage().Enrollments[0], Token: "ppe_once", Server: "unix:///run/portpanel/agent.sock"}
	doc, _ := render(t, views.EnrollmentCreated(p))
	if v, _ := doc.Find(testid("enroll-token")).Attr("value"); v != "ppe_once" {
		t.Errorf("token = %q", v)
	}
	if got := text(doc.Find(testid("enroll-command"))); got != "portpanel agent --server unix:///run/portpanel/agent.sock --enroll-token TOKEN --state-dir /var/lib/portpanel-agent" {
		t.Errorf("command = %q", got)
	}
}
