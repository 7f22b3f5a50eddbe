package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"portpanel/auth"
	"portpanel/db"
)

// Pages and the API read users, sessions and tokens from db.Memo. A change
// made by another process on the same database file (`portpanel user
// disable` from a shell) must end the user's session and token within
// db.SharedPoll, and one made here at once.
func TestCachedIdentityFollowsChangesFromAnotherProcess(t *testing.T) {
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
	if res := c.get("/"); res.StatusCode != http.StatusOK {
		t.Fatalf("GET / signed in: %d, want 200", res.StatusCode)
	}
	if got := api(); got != http.StatusOK {
		t.Fatalf("API with the token: %d, want 200", got)
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

	deadline := time.Now().Add(db.SharedPoll + 500*time.Millisecond)
	for {
		res := c.get("/")
		pageOut := res.StatusCode == http.StatusSeeOther && strings.HasPrefix(res.Header.Get("Location"), "/login")
		apiOut := api() == http.StatusUnauthorized
		if pageOut && apiOut {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%v after another process disabled them: page %d to %q, API %d; want the sign-in page and 401",
				db.SharedPoll+500*time.Millisecond, res.StatusCode, res.Header.Get("Location"), api())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// The same change made by this process shows on the very next request.
func TestCachedIdentityFollowsChangesHereAtOnce(t *testing.T) {
	e := newEnv(t, "/proc/sys")
	alice := e.addUser(t, "alice", auth.RoleViewer)
	c := e.client(t)
	signInAs(t, c, "alice")
	if res := c.get("/"); res.StatusCode != http.StatusOK {
		t.Fatalf("GET / signed in: %d, want 200", res.StatusCode)
	}
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
	before, err := e.h.DB.Version(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/", "/changes", "/history", "/audit", "/"} {
		if res := c.get(path); res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d", path, res.StatusCode)
		}
	}
	if after, err := e.h.DB.Version(t.Context()); err != nil || after != before {
		t.Errorf("the database changed during five page views (version %v, then %v, %v): something writes on every request", before, after, err)
	}
}
