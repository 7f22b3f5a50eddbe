package cli

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"portpanel/auth"
	"portpanel/db"
	"portpanel/db/dbtest/pgtest"
)

// serve --db postgres://... serves pages, the API and sessions from
// PostgreSQL, and outlives a restart of it: while it is down every request
// (and /readyz) answers 503, and once it is back the same session works
// again, with no restart of portpanel. The cluster is this test's own:
// stopping the shared one would fail every other test using it.
func TestServeOnPostgresSurvivesItsRestart(t *testing.T) {
	cluster := pgtest.NewCluster(t)
	ctx := context.Background()
	d, err := db.Open(ctx, cluster.URL)
	if err != nil {
		t.Fatal(err)
	}
	const password = "correct horse battery staple"
	hash, err := auth.HashPassword(password)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.CreateUser(ctx, "alice", "admin", hash, nil); err != nil {
		t.Fatal(err)
	}
	d.Close()

	port, _, stderr := startServe(t, "--db", cluster.URL)
	base := "http://127.0.0.1:" + port
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string) (int, string) {
		t.Helper()
		res, err := c.Get(base + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	_, page := get("/login")
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF field on /login:\n%s", page)
	}
	res, err := c.PostForm(base+"/login", url.Values{"username": {"alice"}, "password": {password}, "csrf": {m[1]}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in: status %d, want 303", res.StatusCode)
	}

	paths := []string{"/", "/changes", "/audit", "/history", "/api/v1/range", "/readyz"}
	expect := func(when string, want int) {
		t.Helper()
		for _, p := range paths {
			if got, body := get(p); got != want {
				t.Errorf("%s: GET %s = %d, want %d\n%.300s", when, p, got, want, body)
			}
		}
	}
	expect("on PostgreSQL", http.StatusOK)

	cluster.Halt()
	expect("PostgreSQL stopped", http.StatusServiceUnavailable)

	cluster.Resume()
	// Pooled connections died with the server; database/sql replaces them
	// (stdlib pings one idle for over a second). Give it a few seconds.
	deadline := time.Now().Add(20 * time.Second)
	for {
		code, _ := get("/")
		if code == http.StatusOK || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	expect("PostgreSQL back", http.StatusOK) // the same session: it lives in the database
	if strings.Contains(stderr.String(), "panic") {
		t.Errorf("serve panicked:\n%s", stderr)
	}
}
