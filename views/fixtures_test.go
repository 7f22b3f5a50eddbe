package views_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"

	"portpanel/db"
	"portpanel/sysctl"
	"portpanel/views"
)

var now = time.Date(2026, 7, 14, 14, 5, 0, 0, time.UTC)

const managed = "/etc/sysctl.d/90-portpanel.conf"

const diff = "--- " + managed + "\n+++ " + managed + "\n@@ -1 +1 @@\n" +
	"-net.ipv4.ip_local_port_range = 32768 60999\n+net.ipv4.ip_local_port_range = 20000 60999\n"

// render renders c and parses the result.
func render(t *testing.T, c templ.Component) (*goquery.Document, string) {
	t.Helper()
	var b strings.Builder
	if err := c.Render(context.Background(), &b); err != nil {
		t.Fatalf("render: %v", err)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(b.String()))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return doc, b.String()
}

func testid(id string) string { return `[data-testid="` + id + `"]` }

func text(s *goquery.Selection) string { return strings.Join(strings.Fields(s.Text()), " ") }

func chrome(nav string) views.Chrome {
	return views.Chrome{Title: "T", Nav: nav, User: "alice", Role: "operator", CSRF: "csrf-token-1", Host: "web-01", Now: now}
}

func i64(v int64) *int64 { return &v }

// changes are #3 applied (rolls back #2), #2 applied and rolled back by
// #3, #1 failed.
func changes() []db.Change {
	return []db.Change{
		{ID: 3, Status: db.StatusApplied, Low: 32768, High: 60999, BeforeLow: 20000, BeforeHigh: 60999,
			Reason: "Roll back change #2", User: "alice", CreatedAt: now.Add(-3 * time.Minute), File: managed, Diff: diff, RollbackOf: i64(2)},
		{ID: 2, Status: db.StatusApplied, Low: 20000, High: 60999, BeforeLow: 32768, BeforeHigh: 60999,
			Reason: "more ports for haproxy", User: "bob", CreatedAt: now.Add(-2 * time.Hour), File: managed, Diff: diff},
		{ID: 1, Status: db.StatusFailed, Low: 1000, High: 60999, BeforeLow: 32768, BeforeHigh: 60999,
			Reason: "wider", User: "bob", CreatedAt: now.Add(-26 * time.Hour), Error: "kernel refused 1000 60999: invalid argument"},
	}
}

func dashboard() views.DashboardPage {
	return views.DashboardPage{
		Chrome: chrome("dashboard"),
		Kernel: sysctl.KernelState{Range: sysctl.Range{Low: 32768, High: 60999}, UnprivilegedPortStart: 1024},
		Boot: sysctl.BootReport{Reader: sysctl.ReaderSystemd, Boot: sysctl.Boot{
			Reader: sysctl.ReaderSystemd, Set: true, Value: "32768 60999", Range: &sysctl.Range{Low: 32768, High: 60999},
			Where: sysctl.Location{File: managed, Line: 2},
		}},
		File:         managed,
		CanChange:    true,
		Form:         views.ChangeForm{Low: "32768", High: "60999"},
		Recent:       changes(),
		RolledBackBy: map[int64]int64{2: 3},
		Usage:        usageSample(),
		Risk:         risk,
	}
}

// samples over the 24 hours before now, oldest first; the first lies
// before the window.
func samples() []db.Sample {
	return []db.Sample{
		{ID: 1, At: now.Add(-30 * time.Hour), Low: 32768, High: 60999, Source: db.SourceStart},
		{ID: 2, At: now.Add(-20 * time.Hour), Low: 32768, High: 60999, Source: db.SourceSample},
		{ID: 3, At: now.Add(-2 * time.Hour), Low: 20000, High: 60999, Source: db.SourceChange},
		{ID: 4, At: now.Add(-1 * time.Hour), Low: 20000, High: 65000, Source: db.SourceExternal},
		{ID: 5, At: now.Add(-3 * time.Minute), Low: 32768, High: 60999, Source: db.SourceChange},
	}
}

func history() views.HistoryPage {
	s := samples()
	var newest []db.Sample
	for i := len(s) - 1; i >= 0; i-- {
		newest = append(newest, s[i])
	}
	return views.HistoryPage{
		Chrome: chrome("history"), Chart: s, ChartFrom: now.Add(-24 * time.Hour), ChartTo: now,
		Window: "24h", Samples: newest, Next: 1,
		Usage: rawUsage(), Changes: marks(changes()), Risk: risk,
	}
}

func audit() views.AuditPage {
	return views.AuditPage{
		Chrome: chrome("audit"),
		Events: []db.AuditEvent{
			{ID: 9, At: now.Add(-time.Minute), User: "alice", Action: "change.applied", Detail: "32768 – 60999", ChangeID: i64(3)},
			{ID: 8, At: now.Add(-time.Hour), Action: "range.external", Detail: "20000 – 65000"},
		},
		Next: 7, ChainOK: true, Verified: 1234,
	}
}

func preview() views.PreviewPage {
	return views.PreviewPage{
		Chrome: chrome("dashboard"),
		Form: views.ChangeForm{Low: "20000", High: "60999", Reason: "more ports for haproxy", ConfirmWithin: "300",
			BaseLow: "32768", BaseHigh: "60999", BaseFile: "sha256:abc"},
		Before: sysctl.Range{Low: 32768, High: 60999}, After: sysctl.Range{Low: 20000, High: 60999},
		Warnings: []string{"low and high have the same parity"},
		Notes:    []string{"The setting is added at the end of the file."},
		File:     managed, Diff: diff,
	}
}

// proposals are #5 by bob (someone else's for alice) and #6 by alice.
func proposals() []db.Change {
	return []db.Change{
		{ID: 5, Status: db.StatusProposed, Low: 20000, High: 60999, BeforeLow: 32768, BeforeHigh: 60999,
			Reason: "more ports for haproxy", User: "bob", CreatedAt: now.Add(-10 * time.Minute), File: managed, Diff: diff,
			Warnings: []string{"low and high have the same parity"}},
		{ID: 6, Status: db.StatusProposed, Low: 30000, High: 60999, BeforeLow: 32768, BeforeHigh: 60999,
			Reason: "a few more", User: "alice", CreatedAt: now.Add(-5 * time.Minute), File: managed, Diff: diff},
	}
}

// awaiting is chrome with change #3 reverting at now + 4:32.
func awaiting(nav string) views.Chrome {
	c := chrome(nav)
	a := changes()[0]
	by := now.Add(4*time.Minute + 32*time.Second)
	a.ConfirmBy, a.ConfirmWithin = &by, 5*time.Minute
	c.Awaiting, c.CanConfirm = &a, true
	return c
}

// allPages is one representative render of every page.
func allPages() map[string]templ.Component {
	anon := views.Chrome{Title: "Sign in", CSRF: "csrf-token-1", Host: "web-01", Now: now}
	cs := changes()
	return map[string]templ.Component{
		"login":     views.Login(views.LoginPage{Chrome: anon, Error: "Wrong user name or password."}),
		"setup":     views.Setup(views.SetupPage{Chrome: anon, Token: "setup-tok", Errors: map[string]string{"password": "too short"}}),
		"dashboard": views.Dashboard(dashboard()),
		"changes":   views.Changes(views.ChangesPage{Chrome: chrome("changes"), Changes: cs, RolledBackBy: map[int64]int64{2: 3}, CanChange: true, Next: 1}),
		"change":    views.Change(views.ChangePage{Chrome: chrome("changes"), Change: cs[1], RolledBackBy: cs[:1], CanRollback: true}),
		"audit":     views.Audit(audit()),
		"history":   views.History(history()),
		"error":     views.Error(views.ErrorPage{Chrome: anon, Code: 404, Title: "Not found", Message: "No such page."}),
		"preview":   views.Preview(preview()),
		"preview-impact": views.Preview(func() views.PreviewPage {
			p := preview()
			p.Impact, p.Risk = impact(0.95), risk
			return p
		}()),
		"dashboard-no-usage": views.Dashboard(func() views.DashboardPage {
			p := dashboard()
			p.Usage = nil
			return p
		}()),
		"namespaces":         views.Namespaces(namespacesPage()),
		"namespaces-empty":   views.Namespaces(views.NamespacesPage{Chrome: chrome("namespaces")}),
		"tokens":             views.Tokens(tokensPage()),
		"token-created":      views.TokenCreated(tokenCreated()),
		"users":              views.Users(usersPage()),
		"users-errors":       views.Users(usersPageWithErrors()),
		"user":               views.User(userPage(false)),
		"user-self":          views.User(userPage(true)),
		"user-errors":        views.User(userPageWithErrors()),
		"account":            views.Account(accountPage()),
		"account-must":       views.Account(accountMustChange()),
		"pending":            views.Pending(views.PendingPage{Chrome: awaiting("pending"), Proposals: proposals(), CanDecide: true}),
		"decide":             views.Change(views.ChangePage{Chrome: awaiting("changes"), Change: proposals()[0], CanDecide: true}),
		"hosts":              views.Hosts(hostsPage()),
		"host":               views.Host(hostPage()),
		"enrollments":        views.Enrollments(enrollmentsPage()),
		"enrollment-created": views.EnrollmentCreated(views.EnrollmentCreatedPage{Chrome: chrome("hosts"), Token: "ppe_once"}),
		"confirm": views.Change(views.ChangePage{Chrome: awaiting("changes"), Change: *awaiting("").Awaiting, CanConfirm: true,
			CanRollback: true, RollbackProposes: true}),
	}
}

// marks are what the history page reads of changes.
func marks(cs []db.Change) []db.ChangeMark {
	var out []db.ChangeMark
	for _, c := range cs {
		out = append(out, db.ChangeMark{ID: c.ID, Status: c.Status, Low: c.Low, High: c.High, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt})
	}
	return out
}
