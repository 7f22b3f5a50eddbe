package web_test

import (
	"context"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"portpanel/auth"
	"portpanel/db"
)

// sessionRows are the sessions table's rows, key and data as text.
func sessionRows(t *testing.T, d *db.DB) map[string]string {
	t.Helper()
	rows, err := d.SQL().Query(`SELECT token, CAST(data AS TEXT) FROM sessions`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			t.Fatal(err)
		}
		out[k] = v
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// cookieToken is the session token the client's jar holds for the server.
func cookieToken(t *testing.T, c *client) string {
	t.Helper()
	u, _ := url.Parse(c.base)
	for _, ck := range c.http.Jar.Cookies(u) {
		if ck.Name == "portpanel_session" {
			return ck.Value
		}
	}
	t.Fatal("no session cookie in the jar")
	return ""
}

// A copy of the database signs nobody in: the sessions table keys rows by
// a hash of the token, and no row holds the token the browser sends.
// The session still works, across requests and across a restart on the
// same file, and sign-out deletes its row.
func TestSessionTokensAreNotStored(t *testing.T) {
	path := filepath.Join(t.TempDir(), "portpanel.db")
	d, err := db.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() }) // the handle open then, after the restart below
	e := newEnvDB(t, "/proc/sys", d)
	e.addUser(t, "alice", auth.RoleViewer)
	c := e.client(t)
	signInAs(t, c, "alice")
	token := cookieToken(t, c)

	signedIn := sessionRows(t, d)
	if len(signedIn) == 0 {
		t.Fatal("no session row after sign-in")
	}
	for k, v := range signedIn {
		if strings.Contains(k, token) || strings.Contains(v, token) {
			t.Errorf("a sessions row holds the cookie's token %q (key %q)", token, k)
		}
	}
	for range 2 {
		if res := c.get("/"); res.StatusCode != http.StatusOK {
			t.Fatalf("GET / with the session: %d, want 200", res.StatusCode)
		}
	}

	// Restart: a new server and a new handle on the same file.
	e.srv.Close()
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d, err = db.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	e = newEnvDB(t, "/proc/sys", d)
	c.base = e.srv.URL // cookies are not scoped by port: the jar sends it here too
	if res := c.get("/"); res.StatusCode != http.StatusOK {
		t.Fatalf("GET / after a restart: %d, want 200 (still signed in)", res.StatusCode)
	}

	res := c.post("/logout", url.Values{"csrf": {c.csrf("/")}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign out: %d, want 303", res.StatusCode)
	}
	after := sessionRows(t, d)
	for k := range signedIn {
		if _, ok := after[k]; ok {
			t.Errorf("the signed-in session's row %q is still there after sign-out", k)
		}
	}
}
