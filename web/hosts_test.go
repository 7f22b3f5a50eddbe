package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"portpanel/agentapi"
	"portpanel/auth"
	"portpanel/db"
	"portpanel/sysctl/sysctltest"
)

// enrollHost enrolls host name into group the way the agent API does:
// a token from fleet, spent once with a key made for the host.
func enrollHost(t testing.TB, e *env, name, group string) db.Host {
	t.Helper()
	ctx := context.Background()
	token, _, err := e.h.Fleet.CreateEnrollment(ctx, "admin1", group, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	pub, _, err := agentapi.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	h, err := e.h.Fleet.Enroll(ctx, agentapi.EnrollRequest{Token: token, Name: name, PublicKey: agentapi.EncodePublicKey(pub), Version: "1.9.0"}, "test")
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// report stores a report of host h made at, with runtime low–high and the
// boot value 32768–60999.
func report(t testing.TB, d *db.DB, h db.Host, at time.Time, low, high int) {
	t.Helper()
	o := agentapi.Observed{Runtime: agentapi.Range{Low: low, High: high},
		Boot:          agentapi.Boot{Range: agentapi.Range{Low: 32768, High: 60999}, Set: true, File: "/etc/sysctl.d/90-portpanel.conf", Line: 2, Reader: "systemd"},
		Drift:         low != 32768 || high != 60999,
		ReservedPorts: "", UnprivilegedPortStart: 1024, File: "/etc/sysctl.d/90-portpanel.conf",
		Usage:     &agentapi.Usage{At: at, Total: 12, ByState: map[string]int{"established": 12}, Risk: "ok"},
		Listeners: []agentapi.Listener{{Port: 40000, Proto: "tcp", Process: "haproxy"}},
	}
	b, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.RecordHostReport(context.Background(), h.ID, db.HostReport{At: at, Version: "1.9.0", PollSeconds: 30, Observed: b,
		Sample: &db.HostSample{Low: low, High: high}}); err != nil {
		t.Fatal(err)
	}
}

// addFleet enrolls lb-01 (reports now, ok), lb-02 (last report 5 minutes
// ago with a 30 s poll: stale) and db-01 (drifts).
func addFleet(t *testing.T, e *env) {
	d := e.h.DB
	now := time.Now()
	report(t, d, enrollHost(t, e, "lb-01", "proxies"), now, 32768, 60999)
	report(t, d, enrollHost(t, e, "lb-02", "proxies"), now.Add(-5*time.Minute), 32768, 60999)
	report(t, d, enrollHost(t, e, "db-01", "db"), now, 20000, 60999)
}

type hostsOut struct {
	Hosts []struct {
		Name, Group, State string
		LastSeen           *time.Time `json:"last_seen"`
		Runtime            *struct{ Low, High int }
	} `json:"hosts"`
	Counts map[string]int `json:"counts"`
	Total  int            `json:"total"`
	Next   string         `json:"next"`
}

func TestHostsListAndFilters(t *testing.T) {
	e := newEnv(t, sysctltest.ProcSys())
	addFleet(t, e)
	hdr := e.bearer(t, "reader", auth.RoleViewer)
	c := e.client(t)
	all := decode[hostsOut](t, c.do(http.MethodGet, "/api/v1/hosts", hdr.Clone(), nil))
	var names []string
	for _, h := range all.Hosts {
		names = append(names, h.Name+"="+h.State)
	}
	if got := strings.Join(names, " "); got != "db-01=drift lb-01=ok lb-02=stale" {
		t.Errorf("hosts = %s, want by name, lb-02 stale after 5 min without a report", got)
	}
	if all.Total != 3 || all.Counts["stale"] != 1 || all.Counts["ok"] != 1 || all.Counts["drift"] != 1 || all.Next != "" {
		t.Errorf("total %d counts %v next %q", all.Total, all.Counts, all.Next)
	}
	stale := decode[hostsOut](t, c.do(http.MethodGet, "/api/v1/hosts?group=proxies&state=stale", hdr.Clone(), nil))
	if len(stale.Hosts) != 1 || stale.Hosts[0].Name != "lb-02" || stale.Total != 2 {
		t.Errorf("proxies, stale: %+v (total %d), want lb-02 of 2 proxies", stale.Hosts, stale.Total)
	}
	if res := c.do(http.MethodGet, "/api/v1/hosts?state=green", hdr.Clone(), nil); res.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown state: %d, want 400", res.StatusCode)
	}
	page := body(e.login(t, auth.RoleViewer).get("/hosts?state=stale"))
	if !strings.Contains(page, `data-host="lb-02"`) || strings.Contains(page, `data-host="lb-01"`) {
		t.Error("the Hosts page filtered by stale does not list just lb-02")
	}
}

// The list is paged, never cut short: following next from the first page
// visits every host once.
func TestHostsPaging(t *testing.T) {
	e := newEnv(t, sysctltest.ProcSys())
	const n = 205
	for i := range n {
		enrollHost(t, e, fmt.Sprintf("h-%03d", i), "bulk")
	}
	hdr := e.bearer(t, "reader", auth.RoleViewer)
	c := e.client(t)
	seen := map[string]bool{}
	pages := 0
	for after := ""; ; pages++ {
		out := decode[hostsOut](t, c.do(http.MethodGet, "/api/v1/hosts?after="+url.QueryEscape(after), hdr.Clone(), nil))
		for _, h := range out.Hosts {
			if seen[h.Name] {
				t.Fatalf("%s listed twice", h.Name)
			}
			seen[h.Name] = true
		}
		if out.Total != n || out.Counts["stale"] != n {
			t.Fatalf("total %d, stale %d; want %d hosts that never reported, all stale", out.Total, out.Counts["stale"], n)
		}
		if out.Next == "" {
			break
		}
		after = out.Next
	}
	if len(seen) != n || pages != 2 {
		t.Errorf("saw %d hosts in %d pages after the first, want %d in 2", len(seen), pages, n)
	}
	page := body(e.login(t, auth.RoleViewer).get("/hosts"))
	if !strings.Contains(page, `href="/hosts?after=h-099"`) {
		t.Error("the Hosts page has no Next link after its first 100 hosts")
	}
}

func TestHostDetail(t *testing.T) {
	e := newEnv(t, sysctltest.ProcSys())
	addFleet(t, e)
	c := e.login(t, auth.RoleViewer)
	type detail struct {
		Name     string
		State    string
		Boot     struct{ File, Reader string }
		Observed *agentapi.Observed
		Audit    []struct{ Action string }
	}
	out := decode[detail](t, c.get("/api/v1/hosts/db-01"))
	if out.State != "drift" || out.Observed == nil || out.Observed.Runtime.Low != 20000 || out.Boot.File != "/etc/sysctl.d/90-portpanel.conf" {
		t.Errorf("db-01 = %+v", out)
	}
	if len(out.Audit) != 1 || out.Audit[0].Action != "host.enrolled" {
		t.Errorf("db-01's audit = %+v, want its enrollment (and not lb-01's)", out.Audit)
	}
	page := body(c.get("/hosts/db-01"))
	for _, want := range []string{`data-testid="range-value">20000 – 60999`, "/etc/sysctl.d/90-portpanel.conf:2", `data-testid="history-chart"`, "host.enrolled", "haproxy"} {
		if !strings.Contains(page, want) {
			t.Errorf("host page lacks %q", want)
		}
	}
	if strings.Contains(page, `data-testid="revoke-host"`) {
		t.Error("a viewer is offered to revoke the host")
	}
	if res := c.get("/hosts/nope"); res.StatusCode != http.StatusNotFound {
		t.Errorf("unknown host page: %d", res.StatusCode)
	}
	if res := c.get("/api/v1/hosts/nope"); res.StatusCode != http.StatusNotFound {
		t.Errorf("unknown host: %d", res.StatusCode)
	}
}

// Every route that enrolls or revokes is the admin's: a viewer, an
// operator and an approver are refused, by session and by token, and
// nothing changes.
func TestFleetWritesAreAdminOnly(t *testing.T) {
	e := newEnv(t, sysctltest.ProcSys())
	addFleet(t, e)
	tok, err := e.h.DB.EnrollmentTokens(context.Background(), 10, 0)
	if err != nil || len(tok) == 0 {
		t.Fatal(err)
	}
	id := fmt.Sprint(tok[0].ID)
	for _, role := range []string{auth.RoleViewer, auth.RoleOperator, auth.RoleApprover} {
		c := e.login(t, role)
		csrf := c.csrf("/hosts")
		form := url.Values{"csrf": {csrf}, "group": {"proxies"}, "ttl": {"1h"}}
		hdr := http.Header{"X-CSRF-Token": {csrf}}
		bearer := e.bearer(t, role+"-bot", role)
		for _, r := range []struct{ method, path string }{
			{http.MethodGet, "/enrollments"},
			{http.MethodPost, "/enrollments"},
			{http.MethodPost, "/enrollments/" + id + "/revoke"},
			{http.MethodPost, "/hosts/lb-01/revoke"},
		} {
			var res *http.Response
			if r.method == http.MethodGet {
				res = c.get(r.path)
			} else {
				res = c.post(r.path, form)
			}
			if res.StatusCode != http.StatusForbidden {
				t.Errorf("%s %s as %s: %d, want 403", r.method, r.path, role, res.StatusCode)
			}
		}
		for _, r := range []struct{ method, path, body string }{
			{http.MethodGet, "/api/v1/enrollments", ""},
			{http.MethodPost, "/api/v1/enrollments", `{"group":"proxies"}`},
			{http.MethodPost, "/api/v1/enrollments/" + id + "/revoke", ""},
			{http.MethodPost, "/api/v1/hosts/lb-01/revoke", ""},
		} {
			for name, h := range map[string]http.Header{"session": hdr, "token": bearer} {
				h = h.Clone()
				h.Set("Content-Type", "application/json")
				res := c.do(r.method, r.path, h, strings.NewReader(r.body))
				if name == "token" {
					res = e.client(t).do(r.method, r.path, h, strings.NewReader(r.body))
				}
				if res.StatusCode != http.StatusForbidden {
					t.Errorf("%s %s as %s by %s: %d, want 403", r.method, r.path, role, name, res.StatusCode)
				}
			}
		}
	}
	list, _ := e.h.DB.EnrollmentTokens(context.Background(), 10, 0)
	lb, _ := e.h.DB.HostByName(context.Background(), "lb-01")
	if len(list) != len(tok) || lb.RevokedAt != nil {
		t.Error("a refused request changed something")
	}
}

func TestEnrollmentAPI(t *testing.T) {
	e := newEnv(t, sysctltest.ProcSys())
	hdr := e.bearer(t, "root", auth.RoleAdmin)
	c := e.client(t)
	post := func(path, payload string) *http.Response {
		h := hdr.Clone()
		h.Set("Content-Type", "application/json")
		return c.do(http.MethodPost, path, h, strings.NewReader(payload))
	}
	res := post("/api/v1/enrollments", `{"group":"proxies","ttl":"30m"}`)
	if res.StatusCode != http.StatusCreated || res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("create: %d, Cache-Control %q", res.StatusCode, res.Header.Get("Cache-Control"))
	}
	created := decode[struct {
		ID        int64
		Token     string
		Group     string
		ExpiresAt time.Time `json:"expires_at"`
	}](t, res)
	if created.Token == "" || created.Group != "proxies" || time.Until(created.ExpiresAt) > 31*time.Minute {
		t.Errorf("created = %+v", created)
	}
	for payload, want := range map[string]int{
		`{"group":"proxies","ttl":"25h"}`:   http.StatusUnprocessableEntity,
		`{"group":"a b"}`:                   http.StatusUnprocessableEntity,
		`{"group":"proxies","ttl":"often"}`: http.StatusUnprocessableEntity,
		`{"group":"proxies","role":"x"}`:    http.StatusBadRequest,
	} {
		if res := post("/api/v1/enrollments", payload); res.StatusCode != want {
			t.Errorf("create %s: %d, want %d", payload, res.StatusCode, want)
		}
	}
	// The agent API spends it: the list says when and by whom.
	pub, _, err := agentapi.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.h.Fleet.Enroll(context.Background(), agentapi.EnrollRequest{Token: created.Token, Name: "lb-07", PublicKey: agentapi.EncodePublicKey(pub)}, "test"); err != nil {
		t.Fatal(err)
	}
	list := decode[struct {
		Enrollments []struct {
			ID     int64
			UsedBy *string `json:"used_by"`
			UsedAt *time.Time
		}
	}](t, c.do(http.MethodGet, "/api/v1/enrollments", hdr.Clone(), nil))
	if len(list.Enrollments) != 1 || list.Enrollments[0].UsedBy == nil || *list.Enrollments[0].UsedBy != "lb-07" {
		t.Fatalf("list = %+v", list)
	}
	if bytes.Contains([]byte(body(c.do(http.MethodGet, "/api/v1/enrollments", hdr.Clone(), nil))), []byte(created.Token)) {
		t.Error("the list shows the token")
	}
	if res := post(fmt.Sprintf("/api/v1/enrollments/%d/revoke", created.ID), ""); res.StatusCode != http.StatusConflict {
		t.Errorf("revoke a used token: %d, want 409", res.StatusCode)
	}
	fresh := decode[struct{ ID int64 }](t, post("/api/v1/enrollments", `{"group":"db"}`))
	if res := post(fmt.Sprintf("/api/v1/enrollments/%d/revoke", fresh.ID), ""); res.StatusCode != http.StatusOK {
		t.Errorf("revoke: %d", res.StatusCode)
	}
	if res := post("/api/v1/enrollments/99999/revoke", ""); res.StatusCode != http.StatusNotFound {
		t.Errorf("revoke an unknown token: %d", res.StatusCode)
	}
	// Revoking the host: once, then 409; its audit names who.
	if res := post("/api/v1/hosts/lb-07/revoke", ""); res.StatusCode != http.StatusOK {
		t.Fatalf("revoke host: %d %s", res.StatusCode, body(res))
	}
	if res := post("/api/v1/hosts/lb-07/revoke", ""); res.StatusCode != http.StatusConflict {
		t.Errorf("revoke again: %d, want 409", res.StatusCode)
	}
	detail := decode[struct {
		State string
		Audit []struct{ User, Action string }
	}](t, c.do(http.MethodGet, "/api/v1/hosts/lb-07", hdr.Clone(), nil))
	if detail.State != "revoked" || len(detail.Audit) == 0 || detail.Audit[0].Action != "host.revoked" || detail.Audit[0].User != "root" {
		t.Errorf("after revoking: %+v", detail)
	}
}

// The pages: create a token (shown once, not cached), revoke a token,
// revoke a host, each a form with its CSRF token.
func TestEnrollmentPages(t *testing.T) {
	e := newEnv(t, sysctltest.ProcSys())
	c := e.login(t, auth.RoleAdmin)
	csrf := c.csrf("/enrollments")
	if res := c.post("/enrollments", url.Values{"group": {"proxies"}, "ttl": {"1h"}}); res.StatusCode != http.StatusForbidden {
		t.Errorf("create without CSRF: %d, want 403", res.StatusCode)
	}
	res := c.post("/enrollments", url.Values{"csrf": {csrf}, "group": {"proxies"}, "ttl": {"1h"}})
	page := body(res)
	if res.StatusCode != http.StatusCreated || res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("create: %d, Cache-Control %q", res.StatusCode, res.Header.Get("Cache-Control"))
	}
	token := hiddenValue(page, "enroll-token")
	if !strings.HasPrefix(token, "ppe_") {
		t.Fatalf("the page shows no token:\n%s", page)
	}
	if strings.Contains(body(c.get("/enrollments")), token) {
		t.Error("the list shows the token again")
	}
	if res := c.post("/enrollments", url.Values{"csrf": {csrf}, "group": {""}, "ttl": {"1h"}}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("no group: %d, want 422", res.StatusCode)
	}
	list, _ := e.h.DB.EnrollmentTokens(context.Background(), 10, 0)
	res = c.post(fmt.Sprintf("/enrollments/%d/revoke", list[0].ID), url.Values{"csrf": {csrf}})
	if res.StatusCode != http.StatusSeeOther {
		t.Errorf("revoke token: %d", res.StatusCode)
	}
	if !strings.Contains(body(c.get("/enrollments")), "revoked") {
		t.Error("the list does not show the token revoked")
	}
	enrollHost(t, e, "lb-01", "proxies")
	if !strings.Contains(body(c.get("/hosts/lb-01")), `data-testid="revoke-host"`) {
		t.Error("an admin is not offered to revoke the host")
	}
	res = c.post("/hosts/lb-01/revoke", url.Values{"csrf": {csrf}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/hosts/lb-01" {
		t.Errorf("revoke host: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	if p := body(c.get("/hosts/lb-01")); !strings.Contains(p, `data-testid="revoked-note"`) || strings.Contains(p, `data-testid="revoke-host"`) {
		t.Error("the revoked host's page does not say so, or still offers to revoke it")
	}
}

// hiddenValue is the value of the input with data-testid id.
func hiddenValue(page, id string) string {
	i := strings.Index(page, `data-testid="`+id+`"`)
	if i < 0 {
		return ""
	}
	start := strings.LastIndex(page[:i], "<input")
	tag := page[start:i]
	v := strings.Index(tag, `value="`)
	if v < 0 {
		return ""
	}
	rest := tag[v+len(`value="`):]
	return rest[:strings.IndexByte(rest, '"')]
}

// /metrics counts hosts by state, every state listed, and gives each
// host not revoked its range, drift, risk and report time under the
// labels host and group only.
func TestHostMetrics(t *testing.T) {
	e := newEnv(t, sysctltest.ProcSys())
	addFleet(t, e)
	enrollHost(t, e, "gone-01", "db")
	if _, err := e.h.Fleet.RevokeHost(context.Background(), "root", "gone-01"); err != nil {
		t.Fatal(err)
	}
	fams := scrape(t, e.login(t, auth.RoleViewer), nil)
	for state, want := range map[string]float64{"ok": 1, "drift": 1, "stale": 1, "revoked": 1, "applying": 0, "failed": 0, "observe-only": 0} {
		if got, ok := sample(fams, "portpanel_hosts", "state", state); !ok || got != want {
			t.Errorf("portpanel_hosts{state=%q} = %v (%v), want %v", state, got, ok, want)
		}
	}
	for _, c := range []struct {
		name, host, group string
		want              float64
	}{
		{"portpanel_host_port_range_low", "db-01", "db", 20000},
		{"portpanel_host_port_range_high", "db-01", "db", 60999},
		{"portpanel_host_drift", "db-01", "db", 1},
		{"portpanel_host_drift", "lb-01", "proxies", 0},
		{"portpanel_host_risk_level", "lb-01", "proxies", 0},
		{"portpanel_host_up", "lb-01", "proxies", 1},
		{"portpanel_host_up", "lb-02", "proxies", 0},
	} {
		if got, ok := sample(fams, c.name, "host", c.host, "group", c.group); !ok || got != c.want {
			t.Errorf("%s{host=%q} = %v (%v), want %v", c.name, c.host, got, ok, c.want)
		}
	}
	if _, ok := sample(fams, "portpanel_host_up", "host", "gone-01", "group", "db"); ok {
		t.Error("a revoked host still has series of its own")
	}
}
