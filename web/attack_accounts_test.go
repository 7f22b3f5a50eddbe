package web_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"portpanel/auth"
	"portpanel/sysctl/sysctltest"
	"portpanel/views"
)

var tokenNameCell = regexp.MustCompile(`(?s)data-testid="token-name">(.*?)</th>`)

// TestAttackInjectionInTokenAndUserNames creates API tokens and users named
// with every injection string. A token name is stored and listed exactly as
// typed, or refused with 422 and a sentence on the form; a user name never
// passes the name rule, and the form shows it back as typed. Nothing else
// changes: same tables, same users, and the audit chain verifies.
func TestAttackInjectionInTokenAndUserNames(t *testing.T) {
	e := newEnv(t, sysctltest.ProcSys())
	admin := e.login(t, auth.RoleAdmin)
	tables := tableNames(t, e)
	users := usersState(t, e)
	var accepted []string
	for _, p := range append(injections, "line\nbreak", strings.Repeat("'", 5000)) {
		res := admin.post("/tokens", url.Values{"csrf": {admin.csrf("/tokens")}, "name": {p}, "role": {auth.RoleViewer},
			"expires": {views.DefaultTokenExpiry}})
		page := body(res)
		switch res.StatusCode {
		case http.StatusCreated:
			accepted = append(accepted, p)
			if !mentions(page, p) {
				t.Errorf("the page of the new token %q does not show its name verbatim", p)
			}
		case http.StatusUnprocessableEntity:
			if !strings.Contains(page, `id="name-error"`) {
				t.Errorf("token name %q refused (422) without saying why on the form", p)
			}
		default:
			t.Errorf("POST /tokens with the name %q: %d, want 201 or 422\n%.300s", p, res.StatusCode, page)
		}

		res = admin.post("/users", url.Values{"csrf": {admin.csrf("/users")}, "username": {p}, "role": {auth.RoleAdmin},
			"password": {"a long enough new password 1"}, "password2": {"a long enough new password 1"}})
		page = body(res)
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, "lower-case letters") {
			t.Errorf("POST /users with the name %q: %d, want 422 and the name rule\n%.300s", p, res.StatusCode, page)
		} else if got := hiddenInput(t, page, "username"); got != strings.TrimSpace(p) && len(p) < 1000 {
			t.Errorf("the user form after %q shows %q", p, got)
		}
	}

	var listed []string
	for _, m := range tokenNameCell.FindAllStringSubmatch(body(admin.get("/tokens")), -1) {
		listed = append(listed, html.UnescapeString(strings.TrimSpace(m[1])))
	}
	rows, err := e.h.DB.SQL().QueryContext(t.Context(), `SELECT name FROM tokens`)
	if err != nil {
		t.Fatal(err)
	}
	var stored []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		stored = append(stored, n)
	}
	rows.Close()
	for _, p := range accepted {
		if !contains(listed, p) {
			t.Errorf("/tokens does not list the token %q verbatim; it lists %q", p, listed)
		}
		if !contains(stored, p) {
			t.Errorf("the token %q is not stored verbatim", p)
		}
	}
	if len(stored) != len(accepted) {
		t.Errorf("%d tokens stored, %d accepted", len(stored), len(accepted))
	}
	if got := tableNames(t, e); got != tables {
		t.Errorf("the tables changed:\nbefore: %s\nafter:  %s", tables, got)
	}
	if got := usersState(t, e); got != users {
		t.Errorf("the users changed:\nbefore:\n%s\nafter:\n%s", users, got)
	}
	wantChainIntact(t, e)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TestAttackPasswordHashesAreArgon2idOWASP sets passwords every way there
// is (the setup page, an admin adding a user, an admin's reset, the user's
// own change, the CLI's code) and reads each stored hash from the database:
// argon2id with at least OWASP's parameters, a fresh salt every time, and
// never the password itself.
func TestAttackPasswordHashesAreArgon2idOWASP(t *testing.T) {
	e := newEnv(t, sysctltest.ProcSys())
	hashes := map[string]string{} // how → stored hash
	hashOf := func(name string) string {
		t.Helper()
		u, err := e.h.DB.UserByName(t.Context(), name)
		if err != nil {
			t.Fatal(err)
		}
		return u.PasswordHash
	}
	post := func(c *client, path string, form url.Values, want int) {
		t.Helper()
		if res := c.post(path, form); res.StatusCode != want {
			t.Fatalf("POST %s: %d, want %d\n%.500s", path, res.StatusCode, want, body(res))
		}
	}

	first := e.client(t)
	secret := e.h.Setup.Secret()
	post(first, "/setup", url.Values{"csrf": {first.csrf("/setup?token=" + url.QueryEscape(secret))}, "token": {secret},
		"username": {"first"}, "password": {testPassword}, "password2": {testPassword}}, http.StatusSeeOther)
	hashes["setup"] = hashOf("first")
	e.addUser(t, "cli", auth.RoleViewer)
	hashes["CLI"] = hashOf("cli")

	const added, reset, own = "added by an admin 1", "reset by an admin 22", "chosen by the user 333"
	post(first, "/users", url.Values{"csrf": {first.csrf("/users")}, "username": {"third"}, "role": {auth.RoleViewer},
		"password": {added}, "password2": {added}}, http.StatusSeeOther)
	hashes["/users"] = hashOf("third")
	third, _ := e.h.DB.UserByName(t.Context(), "third")
	post(first, "/users/"+itoa(third.ID)+"/password", url.Values{"csrf": {first.csrf("/users/" + itoa(third.ID))},
		"password": {reset}, "password2": {reset}}, http.StatusSeeOther)
	hashes["reset"] = hashOf("third")
	c := e.client(t)
	post(c, "/login", url.Values{"csrf": {c.csrf("/login")}, "username": {"third"}, "password": {reset}}, http.StatusSeeOther)
	post(c, "/account/password", url.Values{"csrf": {c.csrf("/account")}, "current": {reset},
		"password": {own}, "password2": {own}}, http.StatusSeeOther)
	hashes["own change"] = hashOf("third")

	seen := map[string]string{}
	for how, h := range hashes {
		wantOWASPHash(t, how, h)
		for _, pw := range []string{testPassword, added, reset, own} {
			if strings.Contains(h, pw) {
				t.Errorf("%s: the stored hash contains the password", how)
			}
		}
		if parts := strings.Split(h, "$"); len(parts) == 6 {
			if other, dup := seen[parts[4]]; dup {
				t.Errorf("%s and %s share a salt", how, other)
			}
			seen[parts[4]] = how
		}
	}
	// Same password, different users: different hashes.
	if hashes["setup"] == hashes["CLI"] {
		t.Error("two users with the same password have the same hash")
	}
}
