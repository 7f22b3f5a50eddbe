package web_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"

	"portpanel/auth"
	"portpanel/sysctl/sysctltest"
	"portpanel/web"
)

// TestEveryRouteEnforcesItsRole walks the route table for anonymous users
// and every role, with a valid CSRF token, so only the role decides.
func TestEveryRouteEnforcesItsRole(t *testing.T) {
	if !sysctltest.InNetns(t) { // POSTs reach the workflow: keep any kernel write private
		return
	}
	e := newEnv(t, sysctltest.ProcSys())
	routes := web.Routes(e.h)
	// Sign-out ends the session, so it goes last.
	sort.SliceStable(routes, func(i, j int) bool { return routes[j].Path == "/logout" && routes[i].Path != "/logout" })
	for _, role := range []string{"", auth.RoleViewer, auth.RoleOperator, auth.RoleApprover, auth.RoleAdmin} {
		c := e.client(t)
		if role != "" {
			c = e.login(t, role)
		}
		token := c.csrf("/login")
		for _, r := range routes {
			path := strings.ReplaceAll(r.Path, ":id", "999")
			var res *http.Response
			if r.Method == http.MethodGet {
				res = c.get(path)
			} else {
				// POST, PATCH or DELETE, with the CSRF token as a form
				// field and as the header (a DELETE's form is not read).
				res = c.do(r.Method, path, http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "X-Csrf-Token": {token}},
					strings.NewReader(url.Values{"csrf": {token}}.Encode()))
			}
			name := role
			if name == "" {
				name = "anonymous"
			}
			got := res.StatusCode
			switch {
			case r.Role == web.Public:
				// A wrong password is a 401 of its own; only 403 or a crash is wrong here.
				if got == http.StatusForbidden || got >= 500 {
					t.Errorf("%s %s as %s: %d, but the route is public", r.Method, r.Path, name, got)
				}
			case role == "":
				want := http.StatusUnauthorized
				if r.Method == http.MethodGet && !strings.HasPrefix(r.Path, "/api/") && r.Path != web.MetricsPath {
					want = http.StatusSeeOther
				}
				if got != want {
					t.Errorf("%s %s as anonymous: %d, want %d", r.Method, r.Path, got, want)
				}
			case !auth.Allows(role, r.Role):
				if got != http.StatusForbidden {
					t.Errorf("%s %s as %s: %d, want 403", r.Method, r.Path, name, got)
				}
			default:
				if got == http.StatusUnauthorized || got == http.StatusForbidden || got >= 500 {
					t.Errorf("%s %s as %s: %d, want it allowed", r.Method, r.Path, name, got)
				}
			}
		}
	}
}

func TestAnonymousIsSentToLogin(t *testing.T) {
	e := newEnv(t, sysctltest.ProcSys())
	c := e.client(t)
	res := c.get("/changes")
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/login?next=%2Fchanges" {
		t.Errorf("GET /changes: %d to %q, want 303 to the login page", res.StatusCode, res.Header.Get("Location"))
	}
	res = c.get("/api/v1/range")
	var out map[string]string
	if res.StatusCode != http.StatusUnauthorized || json.NewDecoder(res.Body).Decode(&out) != nil || out["error"] == "" {
		t.Errorf("GET /api/v1/range: %d %v, want 401 with a JSON error", res.StatusCode, out)
	}
	if res := c.get("/healthz"); res.StatusCode != http.StatusOK {
		t.Errorf("GET /healthz: %d, want 200 without login", res.StatusCode)
	}
	if res := c.get("/static/app.css"); res.StatusCode != http.StatusOK {
		t.Errorf("GET /static/app.css: %d, want 200 without login", res.StatusCode)
	}
}

func TestCSRF(t *testing.T) {
	e := newEnv(t, sysctltest.ProcSys())
	op := e.login(t, auth.RoleOperator)
	other := e.client(t)
	foreign := other.csrf("/login") // a real token, of another session
	form := url.Values{"low": {"40000"}, "high": {"50001"}, "reason": {"csrf test"}}
	for _, tt := range []struct {
		name  string
		token string
	}{
		{"missing", ""},
		{"wrong", "pp_not-the-token"},
		{"from another session", foreign},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := url.Values{}
			for k, v := range form {
				f[k] = v
			}
			if tt.token != "" {
				f.Set("csrf", tt.token)
			}
			if res := op.post("/changes", f); res.StatusCode != http.StatusForbidden {
				t.Errorf("POST /changes: %d, want 403", res.StatusCode)
			}
			if res := op.postJSON("/api/v1/changes", `{"low":40000,"high":50001,"reason":"x"}`, http.Header{"X-CSRF-Token": {tt.token}}); res.StatusCode != http.StatusForbidden {
				t.Errorf("POST /api/v1/changes with a session cookie: %d, want 403", res.StatusCode)
			}
		})
	}
	if list, _ := e.h.DB.Changes(t.Context(), 10, 0); len(list) != 0 {
		t.Errorf("a change got through: %+v", list)
	}
}

func TestViewerCannotChange(t *testing.T) {
	e := newEnv(t, sysctltest.ProcSys())
	v := e.login(t, auth.RoleViewer)
	res := v.post("/changes", url.Values{"low": {"40000"}, "high": {"50001"}, "reason": {"x"}, "csrf": {v.csrf("/")}})
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("viewer POST /changes: %d, want 403", res.StatusCode)
	}
	if strings.Contains(body(v.get("/")), `action="/changes"`) {
		t.Error("the dashboard shows a viewer the change form")
	}
}

func TestSessionEndsAtLogout(t *testing.T) {
	e := newEnv(t, sysctltest.ProcSys())
	c := e.login(t, auth.RoleViewer)
	stolen := c.http.Jar.Cookies(mustURL(t, e.srv.URL))
	if res := c.post("/logout", url.Values{"csrf": {c.csrf("/")}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", res.StatusCode)
	}
	thief := e.client(t)
	thief.http.Jar.SetCookies(mustURL(t, e.srv.URL), stolen)
	if res := thief.get("/"); res.StatusCode != http.StatusSeeOther {
		t.Errorf("a cookie from before logout still works: %d", res.StatusCode)
	}
}

func TestLoginRenewsSessionAndAuditsFailures(t *testing.T) {
	e := newEnv(t, sysctltest.ProcSys())
	e.addUser(t, "alice", auth.RoleViewer)
	c := e.client(t)
	token := c.csrf("/login")
	before := c.http.Jar.Cookies(mustURL(t, e.srv.URL))
	for _, name := range []string{"alice", "nobody"} {
		res := c.post("/login", url.Values{"username": {name}, "password": {"wrong password!"}, "csrf": {token}})
		if res.StatusCode != http.StatusUnauthorized || !strings.Contains(body(res), "Wrong user name or password.") {
			t.Errorf("bad login as %s: %d", name, res.StatusCode)
		}
	}
	res := c.post("/login", url.Values{"username": {"alice"}, "password": {testPassword}, "csrf": {token}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d", res.StatusCode)
	}
	after := c.http.Jar.Cookies(mustURL(t, e.srv.URL))
	if len(before) == 0 || len(after) == 0 || before[0].Value == after[0].Value {
		t.Error("the session ID did not change at login (session fixation)")
	}
	events, _ := e.h.DB.Audit(t.Context(), 10, 0)
	var failed int
	for _, ev := range events {
		if ev.Action == "login.failed" {
			failed++
		}
	}
	if failed != 2 {
		t.Errorf("%d failed logins audited, want 2", failed)
	}
}

func mustURL(t testing.TB, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
