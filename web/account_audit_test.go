package web_test

import (
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"portpanel/auth"
	"portpanel/db/dbtest"
	"portpanel/sysctl/sysctltest"
)

// TestAccountChangesLandWithTheirAuditEvent makes the audit insert fail
// under each account change the pages make: the change must not land
// without its record (a 500 and nothing changed), and lands with it once
// the fault is gone.
func TestAccountChangesLandWithTheirAuditEvent(t *testing.T) {
	// toBob signs an admin in, adds bob (operator), runs first (if any) as
	// the admin and returns a POST of form to bob's page plus suffix.
	toBob := func(t *testing.T, e *env, suffix string, form url.Values, first ...string) func() *http.Response {
		admin := e.login(t, auth.RoleAdmin)
		bob := e.addUser(t, "bob", auth.RoleOperator)
		form.Set("csrf", admin.csrf("/users"))
		for _, s := range first {
			if res := admin.post(userURL(bob)+s, url.Values{"csrf": form["csrf"]}); res.StatusCode != http.StatusSeeOther {
				t.Fatalf("POST %s: %d", s, res.StatusCode)
			}
		}
		return func() *http.Response { return admin.post(userURL(bob)+suffix, form) }
	}
	tests := []struct {
		name, action string
		ok           int // the status without the fault
		// prepare does what the change needs, unfaulted, and returns the
		// request that makes it.
		prepare func(t *testing.T, e *env) func() *http.Response
	}{
		{"an admin creates a user", "user.created", http.StatusSeeOther, func(t *testing.T, e *env) func() *http.Response {
			admin := e.login(t, auth.RoleAdmin)
			form := url.Values{"csrf": {admin.csrf("/users")}, "username": {"carol"}, "role": {auth.RoleViewer},
				"password": {testPassword}, "password2": {testPassword}}
			return func() *http.Response { return admin.post("/users", form) }
		}},
		{"an admin changes a role", "user.role_changed", http.StatusSeeOther, func(t *testing.T, e *env) func() *http.Response {
			return toBob(t, e, "/role", url.Values{"role": {auth.RoleViewer}})
		}},
		{"an admin disables a user", "user.disabled", http.StatusSeeOther, func(t *testing.T, e *env) func() *http.Response {
			return toBob(t, e, "/disable", url.Values{})
		}},
		{"an admin enables a user", "user.enabled", http.StatusSeeOther, func(t *testing.T, e *env) func() *http.Response {
			return toBob(t, e, "/enable", url.Values{}, "/disable")
		}},
		{"an admin resets a password", "user.password_reset", http.StatusSeeOther, func(t *testing.T, e *env) func() *http.Response {
			return toBob(t, e, "/password", url.Values{"password": {newPassword}, "password2": {newPassword}})
		}},
		{"a user changes their own password", "user.password_changed", http.StatusSeeOther, func(t *testing.T, e *env) func() *http.Response {
			c := e.login(t, auth.RoleViewer)
			form := url.Values{"csrf": {c.csrf("/account")}, "current": {testPassword}, "password": {newPassword}, "password2": {newPassword}}
			return func() *http.Response { return c.post("/account/password", form) }
		}},
		{"the setup link creates the first admin", "user.created", http.StatusSeeOther, func(t *testing.T, e *env) func() *http.Response {
			c := e.client(t)
			secret := e.h.Setup.Secret()
			form := url.Values{"csrf": {c.csrf("/setup?token=" + url.QueryEscape(secret))}, "token": {secret},
				"username": {"first"}, "password": {testPassword}, "password2": {testPassword}}
			return func() *http.Response { return c.post("/setup", form) }
		}},
		{"a user creates a token", "token.created", http.StatusCreated, func(t *testing.T, e *env) func() *http.Response {
			c := e.login(t, auth.RoleViewer)
			form := tokenForm(c.csrf("/tokens"))
			return func() *http.Response { return c.post("/tokens", form) }
		}},
		{"a user revokes a token", "token.revoked", http.StatusSeeOther, func(t *testing.T, e *env) func() *http.Response {
			c := e.login(t, auth.RoleViewer)
			createToken(t, c)
			tokens, err := e.h.DB.Tokens(t.Context(), userNamed(t, e, "viewer1").ID)
			if err != nil || len(tokens) != 1 {
				t.Fatalf("tokens = %v, %v; want the one just created", tokens, err)
			}
			path := "/tokens/" + strconv.FormatInt(tokens[0].ID, 10) + "/revoke"
			form := url.Values{"csrf": {c.csrf("/tokens")}}
			return func() *http.Response { return c.post(path, form) }
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, sysctltest.ProcSys())
			change := tt.prepare(t, e)
			before := dbtest.Accounts(t, e.h.DB)
			dbtest.FailAudit(t, e.h.DB)
			if res := change(); res.StatusCode != http.StatusInternalServerError {
				t.Errorf("with the audit insert failing: %d, want 500", res.StatusCode)
			}
			if after := dbtest.Accounts(t, e.h.DB); after != before {
				t.Fatalf("the change landed without its audit event:\nbefore\n%s\nafter\n%s", before, after)
			}
			dbtest.HealAudit(t, e.h.DB)
			if res := change(); res.StatusCode != tt.ok {
				t.Fatalf("without the fault: %d, want %d\n%.500s", res.StatusCode, tt.ok, body(res))
			}
			if dbtest.Accounts(t, e.h.DB) == before {
				t.Fatal("without the fault the change changed nothing: the test proves nothing")
			}
			if ev := auditOf(t, e, tt.action); len(ev) == 0 {
				t.Errorf("no %s event after the change", tt.action)
			}
		})
	}
}
