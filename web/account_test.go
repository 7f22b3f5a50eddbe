package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"portpanel/auth"
	"portpanel/sysctl/sysctltest"
)

func TestChangeOwnPassword(t *testing.T) {
	e := newEnv(t, sysctltest.ProcSys())
	c := e.login(t, auth.RoleViewer)
	other := signInWith(t, e, "viewer1", testPassword) // the same user elsewhere
	page := body(c.get("/account"))
	if !strings.Contains(page, `action="/account/password"`) || !strings.Contains(page, "viewer1") {
		t.Fatalf("the account page lacks the password form or the name:\n%s", page)
	}
	token := c.csrf("/account")
	form := func(current, pw, pw2 string) url.Values {
		return url.Values{"csrf": {token}, "current": {current}, "password": {pw}, "password2": {pw2}}
	}
	for _, tt := range []struct {
		name string
		form url.Values
		msg  string
	}{
		{"wrong current password", form("not my password", newPassword, newPassword), "This is not your current password."},
		{"too short", form(testPassword, "short", "short"), "Use at least 12 characters (this one has 5)."},
		{"common", form(testPassword, "123456qwerty", "123456qwerty"), "most common passwords"},
		{"common, other case", form(testPassword, "QazWsxEdcRfv", "QazWsxEdcRfv"), "most common passwords"},
		{"differs from its repetition", form(testPassword, newPassword, newPassword+" "), "The two passwords differ."},
		{"the current one", form(testPassword, testPassword, testPassword), "other than the current one"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := c.post("/account/password", tt.form)
			if page := body(res); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, tt.msg) {
				t.Errorf("POST /account/password: %d, want 422 saying %q", res.StatusCode, tt.msg)
			}
		})
	}
	if u := userNamed(t, e, "viewer1"); !auth.CheckPassword(testPassword, u.PasswordHash) || u.SessionEpoch != 0 {
		t.Fatalf("a refused change changed the user: %+v", u)
	}
	if ev := auditOf(t, e, "user.password_change_failed"); len(ev) != 1 || ev[0].User != "viewer1" {
		t.Errorf("password_change_failed events = %+v; want the wrong current password recorded once", ev)
	}

	res := c.post("/account/password", form(testPassword, newPassword, newPassword))
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/account" {
		t.Fatalf("change: %d to %q\n%s", res.StatusCode, res.Header.Get("Location"), body(res))
	}
	if page := body(c.get("/account")); !strings.Contains(page, "Password changed. Your other sessions have ended.") {
		t.Error("no flash after the change")
	}
	wantSignedOut(t, other, "the user's other session after a password change")
	if res := e.client(t).post("/login", url.Values{"username": {"viewer1"}, "password": {testPassword}}); res.StatusCode == http.StatusSeeOther {
		t.Error("the old password still signs in")
	}
	signInWith(t, e, "viewer1", newPassword)
	ev := auditOf(t, e, "user.password_changed")
	if len(ev) != 1 || ev[0].User != "viewer1" || strings.Contains(ev[0].Detail, newPassword) {
		t.Errorf("user.password_changed events = %+v; want one by viewer1 without the password", ev)
	}
}

// TestPasswordChangeRenewsTheSessionID: the session that changed the
// password goes on under a new ID, so a copy of the old cookie is useless.
func TestPasswordChangeRenewsTheSessionID(t *testing.T) {
	e := newEnv(t, sysctltest.ProcSys())
	c := e.login(t, auth.RoleViewer)
	before := c.http.Jar.Cookies(mustURL(t, e.srv.URL))
	res := c.post("/account/password", url.Values{"csrf": {c.csrf("/account")}, "current": {testPassword},
		"password": {newPassword}, "password2": {newPassword}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("change: %d", res.StatusCode)
	}
	after := c.http.Jar.Cookies(mustURL(t, e.srv.URL))
	if len(before) == 0 || len(after) == 0 || before[0].Value == after[0].Value {
		t.Fatal("the session ID did not change with the password")
	}
	thief := e.client(t)
	thief.http.Jar.SetCookies(mustURL(t, e.srv.URL), before)
	wantSignedOut(t, thief, "a copy of the cookie from before the change")
}

// TestTokensWaitForANewPassword: after an admin reset, the user's API
// tokens get 403 with what to do until the user has chosen a password.
func TestTokensWaitForANewPassword(t *testing.T) {
	e := newEnv(t, sysctltest.ProcSys())
	u := e.addUser(t, "robot", auth.RoleOperator)
	secret, err := auth.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.h.DB.CreateToken(t.Context(), u.ID, "ci", auth.HashToken(secret)); err != nil {
		t.Fatal(err)
	}
	bearer := http.Header{"Authorization": {"Bearer " + secret}}
	if _, err := e.h.DB.SetPassword(t.Context(), u.ID, u.PasswordHash, true, nil); err != nil {
		t.Fatal(err)
	}
	res := e.client(t).do(http.MethodGet, "/api/v1/range", bearer, nil)
	if res.StatusCode != http.StatusForbidden || !strings.Contains(body(res), "/account") {
		t.Errorf("token of a user with a password to change: %d, want 403 pointing at /account", res.StatusCode)
	}
	if _, err := e.h.DB.SetPassword(t.Context(), u.ID, u.PasswordHash, false, nil); err != nil {
		t.Fatal(err)
	}
	if res := e.client(t).do(http.MethodGet, "/api/v1/range", bearer, nil); res.StatusCode != http.StatusOK {
		t.Errorf("token after the password was set: %d, want 200", res.StatusCode)
	}
}
