package web_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"portpanel/auth"
	"portpanel/change"
	"portpanel/db"
	"portpanel/internal/testclock"
	"portpanel/sysctl"
	"portpanel/sysctl/sysctltest"
	"portpanel/views"
	"portpanel/web"
)

// Some pages' parts and API answers are rendered once per database
// version and time bucket (handlers/version_cache.go). What is served
// from them must be byte for byte what a server with nothing kept renders
// at the same moment: after a sample, a change, a usage sample, on every
// window and filter, on a later page, for every role and session, and
// once a column of every chart has passed.
func TestKeptAnswersAreWhatAFreshRenderGives(t *testing.T) {
	e := newEnv(t, sysctltest.ProcSys())
	clk := testclock.New(time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC))
	e.h.Now, e.h.Changes.Now = clk.Now, clk.Now
	e.h.Sessions.Idle = 0 // the clock jumps by most of an hour
	ctx := t.Context()
	sample := func(ago time.Duration, low int, source string) {
		t.Helper()
		if _, err := e.h.DB.InsertSample(ctx, db.Sample{At: clk.Now().Add(-ago), Low: low, High: 60999, Source: source}); err != nil {
			t.Fatal(err)
		}
	}
	change := func(low int) {
		t.Helper()
		if _, _, err := e.h.DB.RecordChange(ctx, db.Change{Status: db.StatusApplied, Low: low, High: 60999, User: "root", CreatedAt: clk.Now()},
			db.AuditEvent{At: clk.Now(), User: "root", Action: "change.applied"},
			&db.Sample{At: clk.Now(), Low: low, High: 60999, Source: db.SourceChange}); err != nil {
			t.Fatal(err)
		}
	}
	// More than a page of samples and of changes, so pages have an
	// older link.
	for i := range 60 {
		sample(time.Duration(60-i)*2*time.Hour, 32768+i%3, db.SourceSample)
		change(30000 + i)
	}
	u, err := url.Parse(e.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	// Each role signed in (two admins: each session's rollback forms
	// carry its own CSRF token), and an API token, last: its first use
	// after the clock moved records that use, a commit, which would hide
	// a page kept past its time bucket.
	type identity struct {
		name string
		hdr  http.Header
	}
	var who []identity
	for _, name := range []string{"viewer", "admin", "admin2"} {
		role := auth.RoleViewer
		if name != "viewer" {
			role = auth.RoleAdmin
		}
		c := e.loginAs(t, name, role)
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		for _, ck := range c.http.Jar.Cookies(u) {
			req.AddCookie(ck)
		}
		who = append(who, identity{name, req.Header})
	}
	who = append(who, identity{"token", e.bearer(t, "script", auth.RoleViewer)})
	serve := func(h http.Handler, as identity, path string) string {
		t.Helper()
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header = as.hdr.Clone()
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			t.Fatalf("GET %s as %s: %d", path, as.name, w.Code)
		}
		return w.Body.String()
	}
	samples, err := e.h.DB.Samples(ctx, 50, 0)
	if err != nil {
		t.Fatal(err)
	}
	older := strconv.FormatInt(samples[len(samples)-1].ID, 10)
	pages := []string{"/", "/history", "/history?window=1h", "/history?window=24h", "/history?window=30d",
		"/history?window=nonsense", "/history?window=30d&before=" + older,
		"/changes", "/changes?user=root", "/changes?user=root&before=30", "/changes?from=2031-03-04", "/audit", "/audit?user=root", "/audit?before=20"}
	api := []string{"/api/v1/changes", "/api/v1/changes?user=root&before=30", "/api/v1/changes?pretty",
		"/api/v1/history", "/api/v1/history?before=" + older, "/api/v1/usage"}
	check := func(step string) {
		t.Helper()
		for _, as := range who {
			paths := api
			if as.name != "token" {
				paths = pages
			}
			for _, p := range paths {
				// Twice: the second is served from what the first rendered.
				for range 2 {
					got, want := serve(e.srv.Config.Handler, as, p), serve(web.New(e.handlersCopy()), as, p)
					if got != want {
						t.Fatalf("%s: %s as %s differs from a fresh render:\n%s", step, p, as.name, firstDifference(got, want))
					}
				}
			}
		}
	}
	check("at first")
	sample(time.Minute, 40000, db.SourceExternal)
	check("after a sample")
	change(41000)
	check("after a change")
	if _, err := e.h.DB.InsertUsage(ctx, db.UsageSample{At: clk.Now(), Source: db.UsageSourceNetlink, RangeLow: 41000, RangeHigh: 60999,
		Capacity: 19999, InUse: 120}); err != nil {
		t.Fatal(err)
	}
	check("after a usage sample")
	// Nothing recorded, but a column of every chart, and with it the
	// relative times' second, passed. (Within a column a chart kept may
	// end up to that column before now: the staleness it allows.)
	clk.Advance(views.ChartColumn(30*24*time.Hour) + time.Second)
	check("a column later")
}

// firstDifference shows where a and b part.
func firstDifference(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	from := max(0, i-200)
	return "got:  …" + a[from:min(len(a), i+200)] + "\nwant: …" + b[from:min(len(b), i+200)]
}

// What /metrics reads from the database is kept until a commit
// (handlers/metrics.go): its portpanel families must be those a server with
// nothing kept reports, after each kind of commit they count.
func TestMetricsKeptAreWhatAFreshScrapeGives(t *testing.T) {
	e := newEnv(t, sysctltest.ProcSys())
	ctx := t.Context()
	bearer := e.bearer(t, "prometheus", auth.RoleViewer)
	scrape := func(h http.Handler) string {
		t.Helper()
		req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		req.Header = bearer.Clone()
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			t.Fatalf("GET /metrics: %d", w.Code)
		}
		var ours []string
		for _, line := range strings.Split(w.Body.String(), "\n") {
			if strings.HasPrefix(line, "portpanel_") {
				ours = append(ours, line)
			}
		}
		return strings.Join(ours, "\n")
	}
	check := func(step string) {
		t.Helper()
		for range 2 {
			if got, want := scrape(e.srv.Config.Handler), scrape(web.New(e.handlersCopy())); got != want {
				t.Fatalf("%s: /metrics differs from a fresh scrape:\n%s", step, firstDifference(got, want))
			}
		}
	}
	check("at first")
	record := func(c db.Change) {
		t.Helper()
		if _, _, err := e.h.DB.RecordChange(ctx, c, db.AuditEvent{User: "root", Action: "change.recorded"}, nil); err != nil {
			t.Fatal(err)
		}
	}
	record(db.Change{Status: db.StatusApplied, Low: 20000, High: 60999, User: "root"})
	check("after a change")
	record(db.Change{Status: db.StatusProposed, Low: 21000, High: 60999, User: "root"})
	check("after a proposal")
	by := time.Now().Add(time.Hour)
	record(db.Change{Status: db.StatusApplied, Low: 22000, High: 60999, User: "root", ConfirmWithin: time.Hour, ConfirmBy: &by})
	check("after a change to confirm")
	if _, err := e.h.DB.InsertUsage(ctx, db.UsageSample{Source: db.UsageSourceNetlink, RangeLow: 22000, RangeHigh: 60999,
		Capacity: 38999, InUse: 120, TCPStates: map[string]int{"ESTABLISHED": 7}}); err != nil {
		t.Fatal(err)
	}
	check("after a usage sample")
}

// The dashboard's kept part is kept for the kernel state read at each
// request and the boot report: a sysctl -w shows at the next request, a
// hand edit of a config file once the report is recomputed
// (change.ReportMaxAge), each as a server with nothing kept shows it.
func TestDashboardKeptFollowsTheKernelAndTheFiles(t *testing.T) {
	if !sysctltest.InNetns(t) { // it writes the kernel
		return
	}
	e := newEnv(t, sysctltest.ProcSys())
	// The page's clock stands still, so its time bucket does not hide
	// what is kept too long; the boot report's age runs on the real one.
	clk := testclock.New(time.Now())
	e.h.Now, e.h.Changes.Now, e.h.Sessions.Idle = clk.Now, clk.Now, 0
	kernel := sysctl.Kernel{ProcSys: sysctltest.ProcSys()}
	if err := kernel.WriteRange(sysctl.Range{Low: 32768, High: 60999}); err != nil {
		t.Fatal(err)
	}
	c := e.login(t, auth.RoleAdmin)
	u, err := url.Parse(e.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	get := func(h http.Handler) string {
		t.Helper()
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		for _, ck := range c.http.Jar.Cookies(u) {
			req.AddCookie(ck)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			t.Fatalf("GET /: %d", w.Code)
		}
		return w.Body.String()
	}
	check := func(step, shows string) {
		t.Helper()
		got, want := get(e.srv.Config.Handler), get(web.New(e.handlersCopy()))
		if got != want {
			t.Fatalf("%s: the dashboard differs from a fresh render:\n%s", step, firstDifference(got, want))
		}
		if !strings.Contains(got, shows) {
			t.Errorf("%s: the dashboard does not show %q", step, shows)
		}
	}
	get(e.srv.Config.Handler) // the session's first page saves its CSRF token: a commit
	check("at first", "32768 – 60999")
	if err := kernel.WriteRange(sysctl.Range{Low: 40000, High: 60999}); err != nil {
		t.Fatal(err)
	}
	check("after sysctl -w", "40000 – 60999")
	if err := os.MkdirAll(filepath.Dir(e.file), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(e.file, []byte("net.ipv4.ip_local_port_range = 41000 60999\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	time.Sleep(change.ReportMaxAge)
	check("after a hand edit", "41000 – 60999")
}
