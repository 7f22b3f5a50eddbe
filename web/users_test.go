package web_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"portpanel/auth"
	"portpanel/db"
	"portpanel/sysctl/sysctltest"
)

const newPassword = "a fresh and quite long passphrase"

// signInWith signs a new client in as name with password and fails the
// test unless that works.
func signInWith(t *testing.T, e *env, name, password string) *client {
	t.Helper()
	c := e.client(t)
	res := c.post("/login", url.Values{"username": {name}, "password": {password}, "csrf": {c.csrf("/login")}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in as %s: status %d\n%s", name, res.StatusCode, body(res))
	}
	return c
}

func userURL(u db.User) string { return "/users/" + strconv.FormatInt(u.ID, 10) }

func userNamed(t *testing.T, e *env, name string) db.User {
	t.Helper()
	u, err := e.h.DB.UserByName(t.Context(), name)
	if err != nil {
		t.Fatalf("user %s: %v", name, err)
	}
	return u
}

// wantSignedOut checks that c's session no longer works: a page sends it
// to the sign-in form.
func wantSignedOut(t *testing.T, c *client, why string) {
	t.Helper()
	res := c.get("/")
	if loc := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/login") {
		t.Errorf("%s: GET / answered %d to %q, want 303 to the sign-in form", why, res.StatusCode, loc)
	}
}

// auditOf returns the audit events with action, oldest first.
func auditOf(t *testing.T, e *env, action string) []db.AuditEvent {
	t.Helper()
	all, err := e.h.DB.Audit(t.Context(), 500, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []db.AuditEvent
	for i := len(all) - 1; i >= 0; i-- {
		if all[i].Action == action {
			out = append(out, all[i])
		}
	}
	return out
}

func TestAdminCreatesUserWhoMustSetTheirOwnPassword(t *testing.T) {
	e := newEnv(t, sysctltest.ProcSys())
	admin := e.login(t, auth.RoleAdmin)
	list := body(admin.get("/users"))
	if !strings.Contains(list, `action="/users"`) || !strings.Contains(list, "admin1") {
		t.Fatalf("the users page lacks the add form or the admin:\n%s", list)
	}
	token := admin.csrf("/users")
	form := func(name, role, pw, pw2 string) url.Values {
		return url.Values{"csrf": {token}, "username": {name}, "role": {role}, "password": {pw}, "password2": {pw2}}
	}
	for _, tt := range []struct {
		name string
		form url.Values
		msg  string
	}{
		{"short password", form("dana", "operator", "short", "short"), "Use at least 12 characters"},
		{"common password", form("dana", "operator", "qwerty123456", "qwerty123456"), "most common passwords"},
		{"common password in capitals", form("dana", "operator", "QWERTY123456", "QWERTY123456"), "most common passwords"},
		{"the user name", form("dana.operator", "operator", "dana.operator", "dana.operator"), "Do not use the user name"},
		{"passwords differ", form("dana", "operator", testPassword, testPassword+"!"), "The two passwords differ."},
		{"bad name", form("Dana Smith", "operator", testPassword, testPassword), "lower-case letters"},
		{"unknown role", form("dana", "root", testPassword, testPassword), "Choose viewer, operator, approver or admin."},
		{"name taken", form("admin1", "viewer", testPassword, testPassword), "exists already"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := admin.post("/users", tt.form)
			if page := body(res); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, tt.msg) {
				t.Errorf("POST /users: %d, want 422 saying %q", res.StatusCode, tt.msg)
			}
		})
	}
	if _, err := e.h.DB.UserByName(t.Context(), "dana"); err == nil {
		t.Fatal("a refused form created the user")
	}

	res := admin.post("/users", form("dana", "operator", testPassword, testPassword))
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/users" {
		t.Fatalf("create dana: %d to %q\n%s", res.StatusCode, res.Header.Get("Location"), body(res))
	}
	if page := body(admin.get("/users")); !strings.Contains(page, "Added dana (operator)") || !strings.Contains(page, "must set password") {
		t.Errorf("the list after adding does not flash it or show dana's status")
	}
	dana := userNamed(t, e, "dana")
	if !dana.MustChangePassword || dana.Role != auth.RoleOperator || !auth.CheckPassword(testPassword, dana.PasswordHash) {
		t.Fatalf("dana = %+v; want an operator with the typed password, who must change it", dana)
	}
	if ev := auditOf(t, e, "user.created"); len(ev) != 1 || ev[0].User != "admin1" || !strings.Contains(ev[0].Detail, `"dana"`) || strings.Contains(ev[0].Detail, testPassword) {
		t.Errorf("user.created events = %+v; want one by admin1 naming dana, without the password", ev)
	}

	// Dana signs in and is held at the account page until she sets her own.
	c := signInWith(t, e, "dana", testPassword)
	for _, path := range []string{"/", "/changes", "/tokens", "/audit"} {
		if res := c.get(path); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/account" {
			t.Errorf("GET %s with a password to change: %d to %q, want 303 to /account", path, res.StatusCode, res.Header.Get("Location"))
		}
	}
	if res := c.get("/api/v1/range"); res.StatusCode != http.StatusForbidden || !strings.Contains(body(res), "choose a new one") {
		t.Errorf("API with a password to change: %d, want 403 saying what to do", res.StatusCode)
	}
	page := body(c.get("/account"))
	if !strings.Contains(page, "Set a new password to continue.") || !strings.Contains(page, "An administrator chose your current password.") {
		t.Errorf("the account page does not say why the user is there:\n%s", page)
	}
	token = c.csrf("/account")
	change := func(current, pw, pw2 string) url.Values {
		return url.Values{"csrf": {token}, "current": {current}, "password": {pw}, "password2": {pw2}}
	}
	if res := c.post("/account/password", change(testPassword, testPassword, testPassword)); res.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(body(res), "other than the current one") {
		t.Errorf("keeping the admin's password: %d, want 422", res.StatusCode)
	}
	res = c.post("/account/password", change(testPassword, newPassword, newPassword))
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/" {
		t.Fatalf("set own password: %d to %q\n%s", res.StatusCode, res.Header.Get("Location"), body(res))
	}
	if res := c.get("/"); res.StatusCode != http.StatusOK {
		t.Errorf("GET / after setting the password: %d, want 200", res.StatusCode)
	}
	if res := c.get("/api/v1/range"); res.StatusCode != http.StatusOK {
		t.Errorf("API after setting the password: %d, want 200", res.StatusCode)
	}
	if dana = userNamed(t, e, "dana"); dana.MustChangePassword || !auth.CheckPassword(newPassword, dana.PasswordHash) {
		t.Errorf("dana after the change = %+v; want her password and no change due", dana)
	}
	if ev := auditOf(t, e, "user.password_changed"); len(ev) != 1 || ev[0].User != "dana" {
		t.Errorf("user.password_changed events = %+v; want one by dana", ev)
	}
}

func TestDisablingEndsSessionsAtOnce(t *testing.T) {
	e := newEnv(t, sysctltest.ProcSys())
	admin := e.login(t, auth.RoleAdmin)
	victim := e.login(t, auth.RoleOperator)
	u := userNamed(t, e, "operator1")
	secret, err := auth.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.h.DB.CreateToken(t.Context(), u.ID, "ci", auth.HashToken(secret)); err != nil {
		t.Fatal(err)
	}
	bearer := http.Header{"Authorization": {"Bearer " + secret}}
	if res := victim.get("/"); res.StatusCode != http.StatusOK {
		t.Fatalf("before: %d", res.StatusCode)
	}
	stolen := victim.http.Jar.Cookies(mustURL(t, e.srv.URL))

	res := admin.post(userURL(u)+"/disable", url.Values{"csrf": {admin.csrf(userURL(u))}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("disable: %d\n%s", res.StatusCode, body(res))
	}
	wantSignedOut(t, victim, "the disabled user's session")
	replay := e.client(t)
	replay.http.Jar.SetCookies(mustURL(t, e.srv.URL), stolen)
	wantSignedOut(t, replay, "a copy of the disabled user's cookie")
	if res := e.client(t).do(http.MethodGet, "/api/v1/range", bearer, nil); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("the disabled user's API token: %d, want 401", res.StatusCode)
	}
	// Signing in again gets nowhere, whatever the sign-in code answers.
	again := e.client(t)
	again.post("/login", url.Values{"username": {"operator1"}, "password": {testPassword}, "csrf": {again.csrf("/login")}})
	wantSignedOut(t, again, "a disabled user signing in")
	if page := body(admin.get(userURL(u))); !strings.Contains(page, "disabled") || !strings.Contains(page, "Enable operator1") {
		t.Errorf("the user page does not show the user disabled")
	}

	res = admin.post(userURL(u)+"/enable", url.Values{"csrf": {admin.csrf(userURL(u))}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("enable: %d", res.StatusCode)
	}
	wantSignedOut(t, replay, "an old session after re-enabling")
	if res := e.client(t).do(http.MethodGet, "/api/v1/range", bearer, nil); res.StatusCode != http.StatusOK {
		t.Errorf("the re-enabled user's API token: %d, want 200", res.StatusCode)
	}
	if res := signInWith(t, e, "operator1", testPassword).get("/"); res.StatusCode != http.StatusOK {
		t.Errorf("the re-enabled user signing in again: %d, want 200", res.StatusCode)
	}
	for _, action := range []string{"user.disabled", "user.enabled"} {
		if ev := auditOf(t, e, action); len(ev) != 1 || ev[0].User != "admin1" || !strings.Contains(ev[0].Detail, `"operator1"`) {
			t.Errorf("%s events = %+v; want one by admin1 naming operator1", action, ev)
		}
	}
}

func TestRoleChangeTakesEffectOnTheNextRequest(t *testing.T) {
	e := newEnv(t, sysctltest.ProcSys())
	admin := e.login(t, auth.RoleAdmin)
	c := e.login(t, auth.RoleViewer)
	u := userNamed(t, e, "viewer1")
	setRole := func(role string) {
		t.Helper()
		res := admin.post(userURL(u)+"/role", url.Values{"csrf": {admin.csrf(userURL(u))}, "role": {role}})
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("set role %s: %d\n%s", role, res.StatusCode, body(res))
		}
	}
	if res := c.get("/users"); res.StatusCode != http.StatusForbidden {
		t.Fatalf("viewer GET /users: %d, want 403", res.StatusCode)
	}
	setRole(auth.RoleAdmin)
	if res := c.get("/users"); res.StatusCode != http.StatusOK {
		t.Errorf("promoted to admin, GET /users in the same session: %d, want 200", res.StatusCode)
	}
	if !strings.Contains(body(c.get("/")), `href="/users"`) {
		t.Error("the promoted user's navigation has no Users link")
	}
	setRole(auth.RoleViewer)
	if res := c.get("/users"); res.StatusCode != http.StatusForbidden {
		t.Errorf("demoted again, GET /users: %d, want 403", res.StatusCode)
	}
	if res := c.get("/"); res.StatusCode != http.StatusOK {
		t.Errorf("a role change ended the session: %d", res.StatusCode)
	}
	ev := auditOf(t, e, "user.role_changed")
	if len(ev) != 2 || !strings.Contains(ev[0].Detail, "viewer → admin") || !strings.Contains(ev[1].Detail, "admin → viewer") {
		t.Errorf("user.role_changed events = %+v; want viewer → admin, then admin → viewer", ev)
	}
}

func TestOnlyAdminsManageUsers(t *testing.T) {
	e := newEnv(t, sysctltest.ProcSys())
	target := e.addUser(t, "target", auth.RoleViewer)
	for _, role := range []string{auth.RoleViewer, auth.RoleOperator, auth.RoleApprover} {
		c := e.login(t, role)
		token := c.csrf("/account")
		if res := c.get("/users"); res.StatusCode != http.StatusForbidden {
			t.Errorf("%s GET /users: %d, want 403", role, res.StatusCode)
		}
		if res := c.get(userURL(target)); res.StatusCode != http.StatusForbidden {
			t.Errorf("%s GET %s: %d, want 403", role, userURL(target), res.StatusCode)
		}
		for _, action := range []string{"/role", "/disable", "/enable", "/password"} {
			res := c.post(userURL(target)+action, url.Values{"csrf": {token}, "role": {auth.RoleAdmin}, "password": {newPassword}, "password2": {newPassword}})
			if res.StatusCode != http.StatusForbidden {
				t.Errorf("%s POST %s%s: %d, want 403", role, userURL(target), action, res.StatusCode)
			}
		}
		if strings.Contains(body(c.get("/")), `href="/users"`) {
			t.Errorf("%s sees a Users link", role)
		}
	}
	if got := userNamed(t, e, "target"); got != target {
		t.Errorf("non-admins changed the user: %+v → %+v", target, got)
	}
}

func TestTheLastAdminStays(t *testing.T) {
	e := newEnv(t, sysctltest.ProcSys())
	admin := e.login(t, auth.RoleAdmin)
	me := userNamed(t, e, "admin1")
	token := admin.csrf("/users")
	res := admin.post(userURL(me)+"/role", url.Values{"csrf": {token}, "role": {auth.RoleOperator}})
	if page := body(res); res.StatusCode != http.StatusConflict || !strings.Contains(page, "last enabled admin") || !strings.Contains(page, `href="/users"`) {
		t.Errorf("demoting the last admin: %d, want 409 saying why, with a way back to the users", res.StatusCode)
	}
	if res := admin.post(userURL(me)+"/disable", url.Values{"csrf": {token}}); res.StatusCode != http.StatusForbidden || !strings.Contains(body(res), "own account") {
		t.Errorf("disabling oneself: %d, want 403", res.StatusCode)
	}
	if res := admin.post(userURL(me)+"/password", url.Values{"csrf": {token}, "password": {newPassword}, "password2": {newPassword}}); res.StatusCode != http.StatusForbidden {
		t.Errorf("resetting one's own password as admin: %d, want 403", res.StatusCode)
	}
	if got := userNamed(t, e, "admin1"); got != me {
		t.Fatalf("refused, yet admin1 changed: %+v → %+v", me, got)
	}
	// With a second admin, stepping down is allowed and leaves the page.
	e.addUser(t, "second", auth.RoleAdmin)
	res = admin.post(userURL(me)+"/role", url.Values{"csrf": {token}, "role": {auth.RoleOperator}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/" {
		t.Errorf("stepping down beside another admin: %d to %q, want 303 to /", res.StatusCode, res.Header.Get("Location"))
	}
	if res := admin.get("/users"); res.StatusCode != http.StatusForbidden {
		t.Errorf("after stepping down, GET /users: %d, want 403", res.StatusCode)
	}
}

func TestPasswordResetEndsSessionsAndForcesAChange(t *testing.T) {
	e := newEnv(t, sysctltest.ProcSys())
	admin := e.login(t, auth.RoleAdmin)
	victim := e.login(t, auth.RoleOperator)
	u := userNamed(t, e, "operator1")
	token := admin.csrf(userURL(u))
	reset := func(pw, pw2 string) *http.Response {
		return admin.post(userURL(u)+"/password", url.Values{"csrf": {token}, "password": {pw}, "password2": {pw2}})
	}
	for _, tt := range []struct{ name, pw, msg string }{
		{"short", "tiny", "Use at least 12 characters"},
		{"common", "1qaz2wsx3edc", "most common passwords"},
		{"the name", "OPERATOR1", "Use at least 12"}, // too short first
	} {
		if res := reset(tt.pw, tt.pw); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body(res), tt.msg) {
			t.Errorf("reset to a %s password: %d, want 422 saying %q", tt.name, res.StatusCode, tt.msg)
		}
	}
	if res := victim.get("/"); res.StatusCode != http.StatusOK {
		t.Fatalf("a refused reset ended the session: %d", res.StatusCode)
	}
	const temporary = "temporary but long enough"
	if res := reset(temporary, temporary); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("reset: %d\n%s", res.StatusCode, body(res))
	}
	wantSignedOut(t, victim, "a session after its password was reset")
	if res := e.client(t).post("/login", url.Values{"username": {"operator1"}, "password": {testPassword}}); res.StatusCode == http.StatusSeeOther {
		t.Error("the old password still signs in")
	}
	c := signInWith(t, e, "operator1", temporary)
	if res := c.get("/"); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/account" {
		t.Errorf("after signing in with the temporary password: %d to %q, want 303 to /account", res.StatusCode, res.Header.Get("Location"))
	}
	ev := auditOf(t, e, "user.password_reset")
	if len(ev) != 1 || ev[0].User != "admin1" || strings.Contains(ev[0].Detail, temporary) {
		t.Errorf("user.password_reset events = %+v; want one by admin1, without the password", ev)
	}
}

// TestUserFormsNeedCSRF: every users and account form is refused without
// the session's own CSRF token, and changes nothing.
func TestUserFormsNeedCSRF(t *testing.T) {
	e := newEnv(t, sysctltest.ProcSys())
	admin := e.login(t, auth.RoleAdmin)
	target := e.addUser(t, "target", auth.RoleViewer)
	foreign := e.client(t).csrf("/login")
	fields := url.Values{"username": {"mallory"}, "role": {auth.RoleAdmin}, "current": {testPassword},
		"password": {newPassword}, "password2": {newPassword}}
	for _, path := range []string{"/users", userURL(target) + "/role", userURL(target) + "/disable",
		userURL(target) + "/enable", userURL(target) + "/password", "/account/password"} {
		for _, tt := range []struct{ name, token string }{{"missing", ""}, {"wrong", "pp_not-the-token"}, {"another session's", foreign}} {
			f := url.Values{}
			for k, v := range fields {
				f[k] = v
			}
			if tt.token != "" {
				f.Set("csrf", tt.token)
			}
			if res := admin.post(path, f); res.StatusCode != http.StatusForbidden {
				t.Errorf("POST %s with a %s CSRF token: %d, want 403", path, tt.name, res.StatusCode)
			}
		}
	}
	if got := userNamed(t, e, "target"); got != target {
		t.Errorf("a forged request changed the target: %+v → %+v", target, got)
	}
	if _, err := e.h.DB.UserByName(t.Context(), "mallory"); err == nil {
		t.Error("a forged request created a user")
	}
	if me := userNamed(t, e, "admin1"); !auth.CheckPassword(testPassword, me.PasswordHash) {
		t.Error("a forged request changed the admin's password")
	}
}
