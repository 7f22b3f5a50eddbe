package web_test

import (
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"portpanel/auth"
	"portpanel/db"
	"portpanel/static"
	"portpanel/web"
)

// headerIgnored differ between any two answers, whatever the method.
var headerIgnored = []string{"Date"}

// HEAD answers as GET without a body on every GET route of the table, the
// health checks and the static files included: load balancers check with
// HEAD. Walked for an anonymous client and a signed-in admin.
func TestHeadAnswersAsGetOnEveryGetRoute(t *testing.T) {
	e := newEnv(t, "/proc/sys")
	admin := e.loginAs(t, "root", auth.RoleAdmin)
	chg, _, err := e.h.DB.RecordChange(t.Context(), db.Change{Status: db.StatusApplied, Low: 20000, High: 60999, User: "root"},
		db.AuditEvent{User: "root", Action: "change.applied"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	u, err := e.h.DB.UserByName(t.Context(), "root")
	if err != nil {
		t.Fatal(err)
	}
	ep, err := e.h.DB.AddEndpoint(t.Context(), db.Endpoint{URL: "https://hooks.example.com/x", Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
		Events: []string{"change.applied"}, Format: db.FormatStandard, Enabled: true, CreatedBy: "root"},
		func(db.Endpoint) db.AuditEvent { return db.AuditEvent{User: "root", Action: "webhook.created"} })
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{"/changes/:id": strconv.FormatInt(chg.ID, 10), "/api/v1/changes/:id": strconv.FormatInt(chg.ID, 10),
		"/users/:id": strconv.FormatInt(u.ID, 10), "/webhooks/:id": strconv.FormatInt(ep.ID, 10), "/api/v1/webhooks/:id": strconv.FormatInt(ep.ID, 10),
		"/static/*": strings.TrimPrefix(static.Path("app.css"), static.Prefix), "/hosts/:name": "lb-01", "/api/v1/hosts/:name": "lb-01"}
	enrollHost(t, e, "lb-01", "proxies")

	var paths []string
	for _, r := range web.New(e.h).Routes() {
		if r.Method != http.MethodGet {
			continue
		}
		p := r.Path
		for pattern, id := range ids {
			if p == pattern {
				p = strings.NewReplacer(":id", id, ":name", id, "*", id).Replace(p)
			}
		}
		p = strings.Replace(p, ":name", "web-1", 1) // a host's routes answer for any name
		if strings.ContainsAny(p, ":*") {
			t.Errorf("route %s: no value for its parameter; add one to the test", r.Path)
			continue
		}
		paths = append(paths, p)
	}
	for _, who := range []struct {
		name string
		c    *client
	}{{"anonymous", e.client(t)}, {"admin", admin}} {
		for _, p := range paths {
			t.Run(who.name+p, func(t *testing.T) {
				// Both ask for gzip, so the transport leaves the encoding
				// alone (it asks for gzip on GET only by itself).
				hdr := http.Header{"Accept-Encoding": {"gzip"}}
				// A first visit may change the session (a page's CSRF
				// token), and so set the cookie: compare the next two.
				who.c.do(http.MethodGet, p, hdr, nil)
				get := who.c.do(http.MethodGet, p, hdr, nil)
				getBody := body(get)
				head := who.c.do(http.MethodHead, p, hdr, nil)
				if head.StatusCode != get.StatusCode {
					t.Fatalf("HEAD %s: status %d, GET %d", p, head.StatusCode, get.StatusCode)
				}
				if b := body(head); b != "" {
					t.Errorf("HEAD %s: a body of %d bytes", p, len(b))
				}
				if getBody == "" && get.StatusCode == http.StatusOK {
					t.Errorf("GET %s: 200 with no body; the comparison shows nothing", p)
				}
				sameHeaders(t, p, get.Header, head.Header)
			})
		}
	}
}

// sameHeaders compares the headers of the GET and HEAD answers: the same
// names and values, but for the date, and for a Content-Length that HEAD
// leaves out, as RFC 9110 8.6 allows (net/http does so for an empty body).
func sameHeaders(t *testing.T, p string, get, head http.Header) {
	t.Helper()
	for _, k := range headerIgnored {
		get.Del(k)
		head.Del(k)
	}
	if head.Get("Content-Length") == "" {
		get.Del("Content-Length")
	}
	if g, h := slices.Sorted(maps.Keys(get)), slices.Sorted(maps.Keys(head)); !slices.Equal(g, h) {
		t.Errorf("%s: GET sent headers %v, HEAD %v", p, g, h)
	}
	for k, gv := range get {
		if hv := head[k]; !slices.Equal(gv, hv) {
			t.Errorf("%s: %s is %q on GET, %q on HEAD", p, k, gv, hv)
		}
	}
}
