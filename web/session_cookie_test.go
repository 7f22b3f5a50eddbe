package web_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"portpanel/db/dbtest"
	"portpanel/sysctl/sysctltest"
	"portpanel/web"
)

// envOpts tunes an env beyond newEnv's defaults.
type envOpts struct {
	sessions web.SessionConfig
	tls      bool           // serve HTTPS, as --tls-cert does
	trusted  []netip.Prefix // --trusted-proxy
	header   string         // --auth-header
}

// newEnvWith is newEnv with opts, served afresh; the returned log holds
// what the server logged.
func newEnvWith(t *testing.T, opts envOpts) (*env, *syncBuffer) {
	t.Helper()
	e := newEnv(t, sysctltest.ProcSys())
	log := &syncBuffer{}
	e.h.Log = slog.New(slog.NewTextHandler(log, nil))
	e.h.Sessions = web.NewSessions(e.h.DB, opts.sessions)
	e.h.TrustedProxies, e.h.AuthHeader = opts.trusted, opts.header
	if opts.tls {
		e.srv = httptest.NewTLSServer(web.New(e.h))
	} else {
		e.srv = httptest.NewServer(web.New(e.h))
	}
	t.Cleanup(e.srv.Close)
	return e, log
}

// browser is e.client that also speaks the TLS of an env served with tls.
func (e *env) browser(t *testing.T) *client {
	c := e.client(t)
	c.http.Transport = e.srv.Client().Transport
	return c
}

// signInAs signs c in as name (made with addUser) through the login form.
func signInAs(t *testing.T, c *client, name string) {
	t.Helper()
	res := c.post("/login", url.Values{"username": {name}, "password": {testPassword}, "csrf": {c.csrf("/login")}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in as %s: status %d\n%s", name, res.StatusCode, body(res))
	}
}

// sessionCookie is the session cookie res sets, by either name.
func sessionCookie(t *testing.T, res *http.Response) *http.Cookie {
	t.Helper()
	for _, ck := range res.Cookies() {
		if ck.Name == web.SessionCookie || ck.Name == web.SecureSessionCookie {
			return ck
		}
	}
	t.Fatalf("%s %s set no session cookie; Set-Cookie: %q", res.Request.Method, res.Request.URL.Path, res.Header.Values("Set-Cookie"))
	return nil
}

func TestSessionCookieAttributes(t *testing.T) {
	tests := []struct {
		name       string
		opts       envOpts
		wantName   string
		wantSecure bool
	}{
		{name: "plain HTTP: neither Secure nor __Host-", opts: envOpts{},
			wantName: "portpanel_session"},
		{name: "HTTPS served here (--tls-cert): Secure and __Host-", opts: envOpts{tls: true, sessions: web.SessionConfig{Secure: true}},
			wantName: "__Host-portpanel_session", wantSecure: true},
		// Behind a TLS-terminating proxy portpanel itself sees plain HTTP.
		{name: "--secure-cookies behind a TLS proxy: Secure and __Host-", opts: envOpts{sessions: web.SessionConfig{Secure: true}},
			wantName: "__Host-portpanel_session", wantSecure: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e, _ := newEnvWith(t, tt.opts)
			c := e.browser(t)
			check := func(step string, ck *http.Cookie) {
				t.Helper()
				if ck.Name != tt.wantName || ck.Secure != tt.wantSecure {
					t.Errorf("%s: cookie %s Secure=%v, want %s Secure=%v", step, ck.Name, ck.Secure, tt.wantName, tt.wantSecure)
				}
				// __Host- also demands Path=/ and no Domain, or browsers drop it.
				if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.Domain != "" {
					t.Errorf("%s: cookie HttpOnly=%v SameSite=%v Path=%q Domain=%q, want HttpOnly, SameSite=Lax, Path=/, no Domain",
						step, ck.HttpOnly, ck.SameSite, ck.Path, ck.Domain)
				}
				// A browser-session cookie (OWASP: non-persistent): no
				// Max-Age or Expires, so the browser forgets it when it
				// closes; the server ends it after the idle timeout.
				if ck.MaxAge != 0 || !ck.Expires.IsZero() {
					t.Errorf("%s: cookie Max-Age %d Expires %v, want neither", step, ck.MaxAge, ck.Expires)
				}
			}
			check("GET /login", sessionCookie(t, c.get("/login")))
			if tt.wantSecure && !tt.opts.tls {
				return // a client on plain HTTP rightly keeps a Secure cookie to itself
			}
			e.addUser(t, "alice", "viewer")
			res := c.post("/login", url.Values{"username": {"alice"}, "password": {testPassword}, "csrf": {c.csrf("/login")}})
			if res.StatusCode != http.StatusSeeOther {
				t.Fatalf("sign in: %d\n%s", res.StatusCode, body(res))
			}
			check("POST /login", sessionCookie(t, res))
			if res := c.get("/"); res.StatusCode != http.StatusOK {
				t.Errorf("GET / after sign-in: %d, want 200 (the cookie came back)", res.StatusCode)
			}
		})
	}
}

func TestSessionTimeoutsFollowTheConfig(t *testing.T) {
	d := dbtest.Open(t)
	tests := []struct {
		name           string
		cfg            web.SessionConfig
		idle, lifetime time.Duration
	}{
		{name: "zero config: ASVS level 2 defaults", cfg: web.SessionConfig{}, idle: 30 * time.Minute, lifetime: 12 * time.Hour},
		{name: "both given", cfg: web.SessionConfig{Idle: 10 * time.Minute, Lifetime: 8 * time.Hour}, idle: 10 * time.Minute, lifetime: 8 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sm := web.NewSessions(d, tt.cfg)
			if sm.Idle != tt.idle || sm.Lifetime != tt.lifetime {
				t.Errorf("idle %v, lifetime %v; want %v, %v", sm.Idle, sm.Lifetime, tt.idle, tt.lifetime)
			}
			// scs's own idle timeout would re-save the session on every
			// request; portpanel enforces Idle itself.
			if sm.IdleTimeout != 0 {
				t.Errorf("scs IdleTimeout = %v, want 0", sm.IdleTimeout)
			}
		})
	}
}

// The two tests below wait for real expiry. Each first checks the session
// works well inside its limit, then that it is over well past it.

func TestIdleSessionEnds(t *testing.T) {
	t.Parallel()
	const idle = 2 * time.Second
	e, _ := newEnvWith(t, envOpts{sessions: web.SessionConfig{Idle: idle, Lifetime: time.Hour}})
	e.addUser(t, "alice", "viewer")
	c := e.browser(t)
	signInAs(t, c, "alice")
	if res := c.get("/"); res.StatusCode != http.StatusOK {
		t.Fatalf("GET / right after sign-in: %d, want 200", res.StatusCode)
	}
	time.Sleep(idle + 1500*time.Millisecond)
	res := c.get("/")
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login") {
		t.Errorf("GET / after %v idle: %d to %q, want 303 to the login page", idle+1500*time.Millisecond, res.StatusCode, res.Header.Get("Location"))
	}
}

func TestBusySessionEndsAtItsLifetime(t *testing.T) {
	t.Parallel()
	const lifetime = 5 * time.Second
	e, _ := newEnvWith(t, envOpts{sessions: web.SessionConfig{Idle: time.Hour, Lifetime: lifetime}})
	e.addUser(t, "alice", "viewer")
	c := e.browser(t)
	start := time.Now() // the session begins with the login page's CSRF token
	signInAs(t, c, "alice")
	if res := c.get("/"); res.StatusCode != http.StatusOK {
		t.Fatalf("GET / %v after the session began: %d, want 200", time.Since(start).Round(time.Millisecond), res.StatusCode)
	}
	// A request every half second: the idle timeout never comes near.
	var res *http.Response
	for time.Since(start) < lifetime+1500*time.Millisecond {
		time.Sleep(500 * time.Millisecond)
		res = c.get("/")
		io.Copy(io.Discard, res.Body)
	}
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login") {
		t.Errorf("GET / %v after the session began, busy all along: %d to %q, want 303 to the login page",
			time.Since(start).Round(time.Millisecond), res.StatusCode, res.Header.Get("Location"))
	}
}
