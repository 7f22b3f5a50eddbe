package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"portpanel/auth"
	"portpanel/sysctl/sysctltest"
)

// The httptest server sees every request come from 127.0.0.1: trusting
// 127.0.0.1/32 makes the test client a trusted proxy, trusting only
// 10.0.0.0/8 makes it an untrusted one.
var (
	asProxy    = envOpts{trusted: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, header: "X-Forwarded-User"}
	notByProxy = envOpts{trusted: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, header: "X-Forwarded-User"}
)

// via sends a request as the proxy would, naming user in the header.
func via(c *client, method, path, user string, hdr http.Header) *http.Response {
	c.t.Helper()
	if hdr == nil {
		hdr = http.Header{}
	}
	if user != "" {
		hdr.Set("X-Forwarded-User", user)
	}
	return c.do(method, path, hdr, nil)
}

func TestTrustedProxySignsUsersIn(t *testing.T) {
	e, _ := newEnvWith(t, asProxy)
	e.addUser(t, "alice", auth.RoleOperator)
	e.addUser(t, "bob", auth.RoleViewer)
	carol := e.addUser(t, "carol", auth.RoleOperator)
	if _, err := e.h.DB.SetDisabled(context.Background(), carol.ID, true, nil); err != nil {
		t.Fatal(err)
	}

	t.Run("a local user, with their local role", func(t *testing.T) {
		c := e.client(t)
		res := via(c, "GET", "/", "alice", nil)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET / as alice via the proxy: %d, want 200", res.StatusCode)
		}
		doc, err := goquery.NewDocumentFromReader(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		if got := doc.Find(`[data-testid="user"]`).Text(); got != "alice (operator)" {
			t.Errorf("top bar shows %q, want alice (operator)", got)
		}
		if res := via(c, "GET", "/api/v1/range", "alice", nil); res.StatusCode != http.StatusOK {
			t.Errorf("GET /api/v1/range as alice via the proxy: %d, want 200", res.StatusCode)
		}
	})
	t.Run("the local role limits what they may do", func(t *testing.T) {
		c := e.client(t)
		res := via(c, "POST", "/api/v1/changes", "bob", http.Header{"Content-Type": {"application/json"}})
		if b := body(res); res.StatusCode != http.StatusForbidden || !strings.Contains(b, "Your role (viewer)") {
			t.Errorf("POST /api/v1/changes as viewer bob via the proxy: %d %s, want 403 for the role", res.StatusCode, b)
		}
	})
	t.Run("unsafe requests still need the CSRF token", func(t *testing.T) {
		c := e.client(t)
		hdr := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
		if res := c.do("POST", "/logout", http.Header{"Content-Type": hdr["Content-Type"], "X-Forwarded-User": {"alice"}}, nil); res.StatusCode != http.StatusForbidden {
			t.Errorf("POST /logout via the proxy without a CSRF token: %d, want 403", res.StatusCode)
		}
		page := via(c, "GET", "/", "alice", nil)
		m := csrfField.FindStringSubmatch(body(page))
		if m == nil {
			t.Fatal("no CSRF token on the dashboard")
		}
		hdr.Set("X-Forwarded-User", "alice")
		res := c.do("POST", "/logout", hdr, strings.NewReader(url.Values{"csrf": {m[1]}}.Encode()))
		if res.StatusCode != http.StatusSeeOther {
			t.Errorf("POST /logout via the proxy with the page's CSRF token: %d, want 303", res.StatusCode)
		}
	})
	for _, tt := range []struct {
		name, user, path, want string
	}{
		{"an unknown user is refused, not created", "mallory", "/", "no such user"},
		{"an unknown user is refused on the API too", "mallory", "/api/v1/range", "no such user"},
		{"a disabled user is refused", "carol", "/", "disabled"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := via(e.client(t), "GET", tt.path, tt.user, nil)
			if b := body(res); res.StatusCode != http.StatusForbidden || !strings.Contains(b, tt.want) {
				t.Errorf("GET %s as %s via the proxy: %d, want 403 saying %q:\n%s", tt.path, tt.user, res.StatusCode, tt.want, b)
			}
		})
	}
	if _, err := e.h.DB.UserByName(context.Background(), "mallory"); err == nil {
		t.Error("the proxy's unknown user was created")
	}
	t.Run("without the header, the session decides", func(t *testing.T) {
		res := e.client(t).get("/")
		if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login") {
			t.Errorf("GET / from the proxy without the header: %d to %q, want 303 to the login page", res.StatusCode, res.Header.Get("Location"))
		}
	})
}

func TestUserHeaderFromAnUntrustedAddressIsIgnored(t *testing.T) {
	e, log := newEnvWith(t, notByProxy)
	e.addUser(t, "alice", auth.RoleAdmin)
	c := e.client(t)
	for range 3 {
		res := via(c, "GET", "/", "alice", nil)
		if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login") {
			t.Fatalf("GET / naming alice from 127.0.0.1, not a trusted proxy: %d to %q, want 303 to the login page", res.StatusCode, res.Header.Get("Location"))
		}
	}
	if res := via(c, "GET", "/api/v1/range", "alice", nil); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /api/v1/range naming alice from an untrusted address: %d, want 401", res.StatusCode)
	}
	// Spoofing the peer in headers does not help.
	spoof := http.Header{"X-Forwarded-For": {"10.1.2.3"}, "X-Real-Ip": {"10.1.2.3"}, "Forwarded": {"for=10.1.2.3"}}
	if res := via(c, "GET", "/", "alice", spoof); res.StatusCode != http.StatusSeeOther {
		t.Errorf("GET / naming alice with X-Forwarded-For of a trusted address: %d, want 303 to the login page", res.StatusCode)
	}
	if n := strings.Count(log.String(), "not a trusted proxy"); n != 1 {
		t.Errorf("%d warnings about the ignored header for 5 requests, want 1 (at most one a minute):\n%s", n, log)
	}
	if strings.Contains(log.String(), "alice") {
		t.Errorf("the log repeats the header's value, which the sender chose:\n%s", log)
	}
}

// The client address in the audit trail comes from X-Forwarded-For only
// when a trusted proxy sent it; so does HSTS from X-Forwarded-Proto.
func TestForwardedHeadersCountOnlyFromTrustedProxies(t *testing.T) {
	for _, tt := range []struct {
		name     string
		opts     envOpts
		wantFrom string
		wantHSTS bool
	}{
		{"from a trusted proxy", asProxy, "from 203.0.113.7", true},
		{"from anyone else", notByProxy, "from 127.0.0.1", false},
		{"no proxy configured", envOpts{}, "from 127.0.0.1", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e, _ := newEnvWith(t, tt.opts)
			c := e.client(t)
			// The proxy appends the peer it saw to what the client sent.
			fwd := http.Header{"X-Forwarded-For": {"198.51.100.1, 203.0.113.7"}, "X-Forwarded-Proto": {"https"}}
			res := via(c, "GET", "/login", "", fwd.Clone())
			if got := res.Header.Get("Strict-Transport-Security") != ""; got != tt.wantHSTS {
				t.Errorf("Strict-Transport-Security sent: %v, want %v", got, tt.wantHSTS)
			}
			m := csrfField.FindStringSubmatch(body(res))
			if m == nil {
				t.Fatal("no CSRF token on the login page")
			}
			hdr := fwd.Clone()
			hdr.Set("Content-Type", "application/x-www-form-urlencoded")
			form := url.Values{"username": {"nobody"}, "password": {"wrong"}, "csrf": {m[1]}}
			if res := c.do("POST", "/login", hdr, strings.NewReader(form.Encode())); res.StatusCode != http.StatusUnauthorized {
				t.Fatalf("failed sign-in: %d, want 401", res.StatusCode)
			}
			events := auditDetails(t, e)
			if !strings.Contains(events, "failed sign-in as") || !strings.Contains(events, tt.wantFrom) {
				t.Errorf("audit trail %q, want the failed sign-in %s", events, tt.wantFrom)
			}
		})
	}
}

// auditDetails joins the details of every audit event.
func auditDetails(t *testing.T, e *env) string {
	t.Helper()
	events, err := e.h.DB.Audit(context.Background(), 100, 0)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(events)
	return string(b)
}

// Behind a reverse proxy that signs people in with HTTP Basic (nginx's
// auth_basic), the browser sends its Authorization header on every request
// and the proxy passes it on. Only Bearer is portpanel's: another scheme is
// ignored, so the session works, CSRF still guards writes, and an
// anonymous request is sent to sign in as without the header. A malformed
// Bearer header is still refused outright.
func TestAnotherAuthorizationSchemeIsIgnored(t *testing.T) {
	e := newEnv(t, sysctltest.ProcSys())
	basic := http.Header{"Authorization": {"Basic YWxpY2U6c2VjcmV0"}}
	with := func(kv ...string) http.Header {
		h := basic.Clone()
		for i := 0; i+1 < len(kv); i += 2 {
			h.Set(kv[i], kv[i+1])
		}
		return h
	}
	user := e.login(t, "operator")
	anon := e.client(t)
	tests := []struct {
		name   string
		c      *client
		method string
		path   string
		hdr    http.Header
		status int
	}{
		{"signed-in page", user, http.MethodGet, "/", basic, http.StatusOK},
		{"signed-in API call", user, http.MethodGet, "/api/v1/range", basic, http.StatusOK},
		{"signed-in write without the CSRF token", user, http.MethodPost, "/api/v1/changes", with("Content-Type", "application/json"), http.StatusForbidden},
		{"anonymous page", anon, http.MethodGet, "/", basic, http.StatusSeeOther},
		{"anonymous API call", anon, http.MethodGet, "/api/v1/range", basic, http.StatusUnauthorized},
		{"lower-case bearer is not Bearer", anon, http.MethodGet, "/api/v1/range", http.Header{"Authorization": {"bearer pp_x"}}, http.StatusUnauthorized},
		{"Bearer without a token, signed in", user, http.MethodGet, "/", http.Header{"Authorization": {"Bearer"}}, http.StatusUnauthorized},
		{"Bearer with a wrong token, signed in", user, http.MethodGet, "/api/v1/range", http.Header{"Authorization": {"Bearer pp_wrong"}}, http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := tt.c.do(tt.method, tt.path, tt.hdr, strings.NewReader(`{"low": 40000, "high": 50001, "reason": "x"}`))
			if res.StatusCode != tt.status {
				t.Errorf("%s %s: %d, want %d", tt.method, tt.path, res.StatusCode, tt.status)
			}
		})
	}
}
