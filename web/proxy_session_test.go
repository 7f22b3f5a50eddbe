package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"portpanel/auth"
)

// pageCSRF loads path as user through the proxy and returns the page's
// CSRF token and the session cookie the jar then holds.
func pageCSRF(t *testing.T, c *client, path, user string) (csrf, cookie string) {
	t.Helper()
	res := via(c, http.MethodGet, path, user, nil)
	m := csrfField.FindStringSubmatch(body(res))
	if res.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("GET %s as %s via the proxy: %d, want 200 with a CSRF token", path, user, res.StatusCode)
	}
	return m[1], cookieToken(t, c)
}

// postVia posts a form as user through the proxy.
func postVia(c *client, path, user, csrf string) *http.Response {
	hdr := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "X-Forwarded-User": {user}}
	return c.do(http.MethodPost, path, hdr, strings.NewReader(url.Values{"csrf": {csrf}}.Encode()))
}

// When the proxy's header names another user than the one the browser's
// session was made for (a shared machine, a switched SSO account), that
// session ends and a new one starts, with a new CSRF token: a token is the
// user's, not the browser's, so a form alice loaded cannot post as bob.
func TestProxyUserSwitchStartsANewSession(t *testing.T) {
	e, _ := newEnvWith(t, asProxy)
	e.addUser(t, "alice", auth.RoleViewer)
	e.addUser(t, "bob", auth.RoleViewer)
	c := e.client(t)

	aliceCSRF, aliceCookie := pageCSRF(t, c, "/tokens", "alice")
	if again, cookie := pageCSRF(t, c, "/tokens", "alice"); again != aliceCSRF || cookie != aliceCookie {
		t.Fatalf("alice's second page got another session or token: the same user must keep hers")
	}
	bobCSRF, bobCookie := pageCSRF(t, c, "/tokens", "bob")
	if bobCookie == aliceCookie {
		t.Error("bob kept alice's session token")
	}
	if bobCSRF == aliceCSRF {
		t.Error("bob got alice's CSRF token")
	}
	if res := postVia(c, "/logout", "bob", aliceCSRF); res.StatusCode != http.StatusForbidden {
		t.Errorf("POST as bob with the token of alice's page: %d, want 403", res.StatusCode)
	}
	// Alice's session is gone from the server, not only from the jar.
	stale := e.client(t)
	u, _ := url.Parse(e.srv.URL)
	stale.http.Jar.SetCookies(u, []*http.Cookie{{Name: "portpanel_session", Value: aliceCookie}})
	if res := postVia(stale, "/logout", "alice", aliceCSRF); res.StatusCode != http.StatusForbidden {
		t.Errorf("POST as alice on her old session with its token: %d, want 403 (the session was ended)", res.StatusCode)
	}
	if res := postVia(c, "/logout", "bob", bobCSRF); res.StatusCode != http.StatusSeeOther {
		t.Errorf("POST as bob with his own token: %d, want 303", res.StatusCode)
	}
}

// A session signed in with a password is ended too when the proxy names
// someone else on it.
func TestProxyUserOtherThanThePasswordSessionsStartsANewOne(t *testing.T) {
	e, _ := newEnvWith(t, asProxy)
	e.addUser(t, "alice", auth.RoleViewer)
	e.addUser(t, "bob", auth.RoleViewer)
	c := e.client(t)
	signInAs(t, c, "alice")
	aliceCSRF := c.csrf("/tokens")
	aliceCookie := cookieToken(t, c)
	bobCSRF, bobCookie := pageCSRF(t, c, "/tokens", "bob")
	if bobCookie == aliceCookie || bobCSRF == aliceCSRF {
		t.Errorf("bob through the proxy kept alice's password session (same cookie %v, same CSRF token %v)",
			bobCookie == aliceCookie, bobCSRF == aliceCSRF)
	}
	if res := c.get("/"); res.StatusCode != http.StatusSeeOther {
		t.Errorf("GET / without the header after bob's visit: %d, want 303 to sign in (alice's session ended)", res.StatusCode)
	}
}
