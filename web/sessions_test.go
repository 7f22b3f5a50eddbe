package web_test

import (
	"context"
	"encoding/binary"
	"net/http"
	"strings"
	"testing"
	"time"

	"portpanel/auth"
	"portpanel/db"
)

// Sessions are stored as JSON (jsonCodec). One stored otherwise (by an
// older portpanel's own binary codec, or damaged) cannot be decoded: it is
// no session, so its user signs in again, and nothing answers 500.
func TestUndecodableSessionIsNoSession(t *testing.T) {
	tests := []struct {
		name string
		data func(userID int64) []byte
	}{
		{name: "older portpanel's binary format", data: oldFormatSession},
		{name: "damaged", data: func(int64) []byte { return []byte("not a session") }},
		{name: "empty", data: func(int64) []byte { return []byte{} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, "/proc/sys")
			alice, c := viewerOnDashboard(t, e)
			if _, err := e.h.DB.SQL().Exec(`UPDATE sessions SET data = ?`, tt.data(alice.ID)); err != nil {
				t.Fatal(err)
			}
			if res := c.get("/"); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login") {
				t.Errorf("GET / with the undecodable session: %d to %q, want 303 to the sign-in page", res.StatusCode, res.Header.Get("Location"))
			}
			if res := c.get("/api/v1/range"); res.StatusCode != http.StatusUnauthorized {
				t.Errorf("GET /api/v1/range with the undecodable session: %d, want 401", res.StatusCode)
			}
			signInAs(t, c, "alice")
			if res := c.get("/"); res.StatusCode != http.StatusOK {
				t.Errorf("GET / signed in again: %d, want 200", res.StatusCode)
			}
		})
	}
}

// viewerOnDashboard adds viewer alice, signs her in and checks that she sees
// the dashboard.
func viewerOnDashboard(t *testing.T, e *env) (db.User, *client) {
	t.Helper()
	alice := e.addUser(t, "alice", auth.RoleViewer)
	c := e.client(t)
	signInAs(t, c, "alice")
	if res := c.get("/"); res.StatusCode != http.StatusOK {
		t.Fatalf("GET / signed in: %d, want 200", res.StatusCode)
	}
	return alice, c
}

// oldFormatSession is a signed-in session as portpanel's own binary codec
// stored it (no codec reads it since): a magic byte, the deadline in unix
// nanoseconds, the number of values, then per value its key, a type byte
// and the value.
func oldFormatSession(userID int64) []byte {
	b := []byte{0xB1}
	b = binary.AppendVarint(b, time.Now().Add(time.Hour).UnixNano())
	b = binary.AppendUvarint(b, 3)
	for _, kv := range []struct {
		k string
		v int64
	}{{"user_id", userID}, {"user_epoch", 0}, {"seen", time.Now().UnixMilli()}} {
		b = binary.AppendUvarint(b, uint64(len(kv.k)))
		b = append(b, kv.k...)
		b = append(b, 'i')
		b = binary.AppendVarint(b, kv.v)
	}
	return b
}

// Disabling a user from another process on the same database file
// (`portpanel user disable` from a shell) ends their session and token on
// the next request.
func TestDisablingInAnotherProcessEndsSessionsAndTokens(t *testing.T) {
	e := newEnv(t, "/proc/sys")
	alice := e.addUser(t, "alice", auth.RoleViewer)
	c := e.client(t)
	signInAs(t, c, "alice")
	token := e.bearer(t, "script", auth.RoleViewer)
	script, err := e.h.DB.UserByName(t.Context(), "script")
	if err != nil {
		t.Fatal(err)
	}
	api := func() int {
		res := c.do(http.MethodGet, "/api/v1/range", token, nil)
		return res.StatusCode
	}
	// Twice: the first round writes (the token's first use, the CSRF
	// token), the second reads what the first left, and writes nothing
	// that would make this process look again.
	for range 2 {
		if res := c.get("/"); res.StatusCode != http.StatusOK {
			t.Fatalf("GET / signed in: %d, want 200", res.StatusCode)
		}
		if got := api(); got != http.StatusOK {
			t.Fatalf("API with the token: %d, want 200", got)
		}
	}

	var seq int
	var name, path string
	if err := e.h.DB.SQL().QueryRow(`PRAGMA database_list`).Scan(&seq, &name, &path); err != nil {
		t.Fatal(err)
	}
	other, err := db.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.SetDisabled(t.Context(), alice.ID, true, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := other.SetDisabled(t.Context(), script.ID, true, nil); err != nil {
		t.Fatal(err)
	}

	if res := c.get("/"); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login") {
		t.Errorf("GET / right after another process disabled alice: %d to %q, want 303 to the sign-in page", res.StatusCode, res.Header.Get("Location"))
	}
	if got := api(); got != http.StatusUnauthorized {
		t.Errorf("API right after another process disabled the token's owner: %d, want 401", got)
	}
}

// The same change made by this process ends the session on the very next
// request.
func TestDisablingHereEndsSessions(t *testing.T) {
	e := newEnv(t, "/proc/sys")
	alice, c := viewerOnDashboard(t, e)
	if _, err := e.h.DB.SetDisabled(t.Context(), alice.ID, true, nil); err != nil {
		t.Fatal(err)
	}
	if res := c.get("/"); res.StatusCode != http.StatusSeeOther {
		t.Errorf("GET / right after disabling: %d, want 303 to the sign-in page", res.StatusCode)
	}
}

// A signed-in page view writes nothing when nothing changed: scs's own idle
// timeout re-saved the session on every request, which made the panel
// write-bound under load (BENCHMARKS.md).
func TestPageViewsWriteNothing(t *testing.T) {
	e := newEnv(t, "/proc/sys")
	e.addUser(t, "alice", auth.RoleViewer)
	c := e.client(t)
	signInAs(t, c, "alice")
	for _, path := range []string{"/", "/changes"} { // the first views make the CSRF token
		if res := c.get(path); res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d", path, res.StatusCode)
		}
	}
	// data_version moves when any connection but the one asking commits.
	conn, err := e.h.DB.SQL().Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	dataVersion := func() int64 {
		t.Helper()
		var v int64
		if err := conn.QueryRowContext(t.Context(), `PRAGMA data_version`).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	before := dataVersion()
	for _, path := range []string{"/", "/changes", "/history", "/audit", "/"} {
		if res := c.get(path); res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d", path, res.StatusCode)
		}
	}
	if after := dataVersion(); after != before {
		t.Errorf("the database changed during five page views (data_version %d, then %d): something writes on every request", before, after)
	}
}
