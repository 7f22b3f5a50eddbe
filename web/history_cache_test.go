package web_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"
	"time"

	"portpanel/auth"
	"portpanel/db"
	"portpanel/internal/testclock"
	"portpanel/sysctl/sysctltest"
	"portpanel/views"
	"portpanel/web"
)

// The history page's parts are rendered once per database version and
// time bucket (handlers/render_cache.go). A page served from them must be
// byte for byte what a server with nothing cached renders at the same
// moment: after a sample, a change, a usage sample, on every window, on a
// later page, for every role, and once a chart column has passed.
func TestHistoryCacheServesWhatAFreshRenderWould(t *testing.T) {
	e := newEnv(t, sysctltest.ProcSys())
	clk := testclock.New(time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC))
	e.h.Now, e.h.Changes.Now = clk.Now, clk.Now
	ctx := t.Context()
	sample := func(ago time.Duration, low int, source string) {
		t.Helper()
		if _, err := e.h.DB.InsertSample(ctx, db.Sample{At: clk.Now().Add(-ago), Low: low, High: 60999, Source: source}); err != nil {
			t.Fatal(err)
		}
	}
	// More than a page of samples, so the page has an older link.
	for i := range 60 {
		sample(time.Duration(60-i)*2*time.Hour, 32768+i%3, db.SourceSample)
	}
	clients := map[string]*client{auth.RoleViewer: e.login(t, auth.RoleViewer), auth.RoleAdmin: e.login(t, auth.RoleAdmin)}
	u, err := url.Parse(e.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	// fresh is path as a server with empty caches renders it now.
	fresh := func(c *client, path string) string {
		t.Helper()
		req := httptest.NewRequest(http.MethodGet, path, nil)
		for _, ck := range c.http.Jar.Cookies(u) {
			req.AddCookie(ck)
		}
		w := httptest.NewRecorder()
		web.New(e.handlersCopy()).ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			t.Fatalf("fresh GET %s: %d", path, w.Code)
		}
		return w.Body.String()
	}
	oldest, err := e.h.DB.Samples(ctx, 50, 0)
	if err != nil {
		t.Fatal(err)
	}
	paths := []string{"/history", "/history?window=1h", "/history?window=24h", "/history?window=30d",
		"/history?window=nonsense", "/history?window=30d&before=" + strconv.FormatInt(oldest[len(oldest)-1].ID, 10)}
	check := func(step string) {
		t.Helper()
		for role, c := range clients {
			for _, p := range paths {
				// Twice: the second is served from what the first rendered.
				for range 2 {
					if got, want := body(c.get(p)), fresh(c, p); got != want {
						t.Fatalf("%s: %s as %s differs from a fresh render:\n%s", step, p, role, firstDifference(got, want))
					}
				}
			}
		}
	}
	check("at first")
	sample(time.Minute, 40000, db.SourceExternal)
	check("after a sample")
	if _, _, err := e.h.DB.RecordChange(ctx, db.Change{Status: db.StatusApplied, Low: 41000, High: 60999, User: "root", CreatedAt: clk.Now()},
		db.AuditEvent{User: "root", Action: "change.applied"},
		&db.Sample{At: clk.Now(), Low: 41000, High: 60999, Source: db.SourceChange}); err != nil {
		t.Fatal(err)
	}
	check("after a change")
	if _, err := e.h.DB.InsertUsage(ctx, db.UsageSample{At: clk.Now(), Source: db.UsageSourceNetlink, RangeLow: 41000, RangeHigh: 60999,
		Capacity: 19999, InUse: 120}); err != nil {
		t.Fatal(err)
	}
	check("after a usage sample")
	// Nothing recorded, but the 1-hour chart's column, and a second of
	// the samples' relative times, passed.
	clk.Advance(views.ChartColumn(time.Hour) + time.Second)
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
