package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"portpanel/auth"
	"portpanel/sysctl/sysctltest"
)

func TestLoginReturnsToTheLocalPageThatSentThere(t *testing.T) {
	e := newEnv(t, sysctltest.ProcSys())
	e.addUser(t, "alice", auth.RoleViewer)
	for _, tt := range []struct{ next, want string }{
		{"/history?window=7d", "/history?window=7d"},
		{"/audit", "/audit"},
		{"", "/"},
		{"//evil.example/x", "/"},
		{"/\\evil.example", "/"},
		{"https://evil.example/", "/"},
		{"javascript:alert(1)", "/"},
		{"/login?next=/audit", "/"},
	} {
		t.Run(tt.next, func(t *testing.T) {
			c := e.client(t)
			// The anonymous redirect carries the page in ?next=, and the
			// form carries it on.
			page := body(c.get("/login?next=" + url.QueryEscape(tt.next)))
			if tt.want != "/" && !strings.Contains(page, `name="next" value="`+strings.ReplaceAll(tt.want, "&", "&amp;")+`"`) {
				t.Fatalf("login page lacks the hidden next field for %q", tt.want)
			}
			res := c.post("/login", url.Values{"username": {"alice"}, "password": {testPassword},
				"csrf": {c.csrf("/login")}, "next": {tt.next}})
			if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != tt.want {
				t.Errorf("login with next=%q: %d to %q, want 303 to %q", tt.next, res.StatusCode, res.Header.Get("Location"), tt.want)
			}
		})
	}
}

func TestAnonymousPageRoundTripsThroughLogin(t *testing.T) {
	e := newEnv(t, sysctltest.ProcSys())
	e.addUser(t, "alice", auth.RoleViewer)
	c := e.client(t)
	res := c.get("/audit")
	loc := res.Header.Get("Location")
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/login?next=") {
		t.Fatalf("anonymous /audit: %d to %q", res.StatusCode, loc)
	}
	u, _ := url.Parse(loc)
	res = c.post("/login", url.Values{"username": {"alice"}, "password": {testPassword},
		"csrf": {c.csrf(loc)}, "next": {u.Query().Get("next")}})
	if got := res.Header.Get("Location"); got != "/audit" {
		t.Errorf("after login: to %q, want /audit", got)
	}
}

func TestSignOutSaysSo(t *testing.T) {
	e := newEnv(t, sysctltest.ProcSys())
	c := e.login(t, auth.RoleViewer)
	if res := c.post("/logout", url.Values{"csrf": {c.csrf("/")}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", res.StatusCode)
	}
	if page := body(c.get("/login")); !strings.Contains(page, "Signed out.") {
		t.Errorf("the login page after sign-out does not say so")
	}
	if res := c.get("/"); res.StatusCode != http.StatusSeeOther {
		t.Errorf("still signed in after sign-out: %d", res.StatusCode)
	}
}
