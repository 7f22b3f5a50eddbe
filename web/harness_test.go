package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"portpanel/auth"
	"portpanel/change"
	"portpanel/db"
	"portpanel/db/dbtest"
	"portpanel/fleet"
	"portpanel/handlers"
	"portpanel/handlers/openapitest"
	"portpanel/handlers/throttle"
	"portpanel/sysctl"
	"portpanel/web"
)

const testPassword = "correct horse battery staple"

// env is the real router over a temp database and temp config tree, served
// by httptest so cookies behave as in a browser.
type env struct {
	srv  *httptest.Server
	h    *handlers.Handlers
	file string
}

func newEnv(t testing.TB, procSys string) *env {
	t.Helper()
	return newEnvDB(t, procSys, dbtest.Open(t))
}

// newEnvDB is newEnv on the database d.
func newEnvDB(t testing.TB, procSys string, d *db.DB) *env {
	t.Helper()
	if os.Getenv("PORTPANEL_IN_NETNS") == "1" {
		// A new network namespace starts with loopback down.
		if out, err := exec.Command("ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
			t.Fatalf("ip link set lo up: %v\n%s", err, out)
		}
	}
	root := t.TempDir()
	file := filepath.Join(root, "etc", "sysctl.conf")
	svc := &change.Service{Kernel: sysctl.Kernel{ProcSys: procSys}, Config: sysctl.Config{Root: root},
		Reader: sysctl.ReaderProcps, File: file, DB: d, Now: time.Now}
	setup, err := handlers.NewSetupToken()
	if err != nil {
		t.Fatal(err)
	}
	h := &handlers.Handlers{DB: d, Changes: svc, Sessions: web.NewSessions(d, web.SessionConfig{}), Setup: setup,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Host: "testhost", Now: time.Now, Throttle: throttle.New(throttle.Config{Store: throttle.DBStore{DB: d}}),
		Fleet: &fleet.Service{DB: d}}
	srv := httptest.NewServer(web.New(h))
	t.Cleanup(srv.Close)
	return &env{srv: srv, h: h, file: file}
}

// handlersCopy is e's handlers with their settings but caches of their own
// (a struct copy would share nothing but copy their locks).
func (e *env) handlersCopy() *handlers.Handlers {
	o := e.h
	return &handlers.Handlers{DB: o.DB, Changes: o.Changes, Sessions: o.Sessions, Setup: o.Setup, Throttle: o.Throttle,
		Log: o.Log, RequestLog: o.RequestLog, Host: o.Host, Netns: o.Netns, Namespaces: o.Namespaces, Now: o.Now, MetricsToken: o.MetricsToken, Risk: o.Risk,
		TrustedProxies: o.TrustedProxies, AuthHeader: o.AuthHeader, Fleet: o.Fleet}
}

// client is a browser-like client that does not follow redirects.
type client struct {
	t    testing.TB
	base string
	http *http.Client
}

func (e *env) client(t testing.TB) *client {
	jar, _ := cookiejar.New(nil)
	// Every API call of every test is held to handlers/openapi.json.
	return &client{t: t, base: e.srv.URL, http: &http.Client{Jar: jar, Transport: openapitest.Transport(t, nil), CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

// addUser creates a user straight in the database.
func (e *env) addUser(t testing.TB, name, role string) db.User {
	t.Helper()
	hash, err := auth.HashPassword(testPassword)
	if err != nil {
		t.Fatal(err)
	}
	u, err := e.h.DB.CreateUser(context.Background(), name, role, hash, nil)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// login signs in as a new user with role and returns the client.
func (e *env) login(t testing.TB, role string) *client {
	t.Helper()
	e.addUser(t, role+"1", role)
	c := e.client(t)
	res := c.post("/login", url.Values{"username": {role + "1"}, "password": {testPassword}, "csrf": {c.csrf("/login")}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("login as %s: status %d\n%s", role, res.StatusCode, body(res))
	}
	return c
}

func (c *client) do(method, path string, hdr http.Header, payload io.Reader) *http.Response {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, payload)
	if err != nil {
		c.t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { res.Body.Close() })
	return res
}

func (c *client) get(path string) *http.Response { return c.do(http.MethodGet, path, nil, nil) }

func (c *client) post(path string, form url.Values) *http.Response {
	return c.do(http.MethodPost, path, http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, strings.NewReader(form.Encode()))
}

func (c *client) postJSON(path, payload string, hdr http.Header) *http.Response {
	if hdr == nil {
		hdr = http.Header{}
	}
	hdr.Set("Content-Type", "application/json")
	return c.do(http.MethodPost, path, hdr, strings.NewReader(payload))
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf loads page and returns the CSRF token of its forms.
func (c *client) csrf(page string) string {
	c.t.Helper()
	res := c.get(page)
	m := csrfField.FindStringSubmatch(body(res))
	if m == nil {
		c.t.Fatalf("no csrf field on %s (status %d)", page, res.StatusCode)
	}
	return m[1]
}

func body(res *http.Response) string {
	b, _ := io.ReadAll(res.Body)
	return string(b)
}
