package views_test

import (
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"portpanel/auth"
	"portpanel/db"
	"portpanel/views"
)

func adminChrome(nav string) views.Chrome {
	c := chrome(nav)
	c.Role = auth.RoleAdmin
	return c
}

func users() []db.User {
	return []db.User{
		{ID: 1, Name: "alice", Role: auth.RoleAdmin, CreatedAt: now.Add(-48 * time.Hour), PasswordChangedAt: now.Add(-time.Hour)},
		{ID: 2, Name: "bob", Role: auth.RoleOperator, CreatedAt: now.Add(-2 * time.Hour), PasswordChangedAt: now.Add(-2 * time.Hour), MustChangePassword: true},
		{ID: 3, Name: "carol", Role: auth.RoleViewer, CreatedAt: now.Add(-30 * 24 * time.Hour), PasswordChangedAt: now.Add(-30 * 24 * time.Hour), Disabled: true, MustChangePassword: true},
	}
}

func usersPage() views.UsersPage {
	return views.UsersPage{Chrome: adminChrome("users"), Users: users(), Form: views.NewUserForm{Role: auth.RoleViewer}}
}

func usersPageWithErrors() views.UsersPage {
	p := usersPage()
	p.Form = views.NewUserForm{Username: "Dana", Role: auth.RoleApprover, Errors: map[string]string{
		"username": "Use 1 to 32 lower-case letters.", "password": "Use at least 12 characters (this one has 5)."}}
	return p
}

func userPage(self bool) views.UserPage {
	u := users()[1]
	if self {
		u = users()[0]
	}
	return views.UserPage{Chrome: adminChrome("users"), User: u, Self: self}
}

func userPageWithErrors() views.UserPage {
	p := userPage(false)
	p.Errors = map[string]string{"password2": "The two passwords differ."}
	return p
}

func accountPage() views.AccountPage {
	return views.AccountPage{Chrome: chrome("account"), Account: db.User{ID: 1, Name: "alice", Role: auth.RoleOperator, PasswordChangedAt: now.Add(-time.Hour)},
		Errors: map[string]string{"current": "This is not your current password."}}
}

func accountMustChange() views.AccountPage {
	p := accountPage()
	p.Account.MustChangePassword, p.Errors = true, nil
	return p
}

func TestUsersList(t *testing.T) {
	doc, _ := render(t, views.Users(usersPage()))
	var rows []string
	doc.Find(testid("user-row")).Each(func(_ int, s *goquery.Selection) {
		rows = append(rows, text(s.Find("th"))+" "+text(s.Find("td").Eq(0))+" "+text(s.Find(testid("user-status"))))
	})
	want := []string{"alice admin ✓ active", "bob operator ! must set password", "carol viewer ⊘ disabled"}
	if strings.Join(rows, "|") != strings.Join(want, "|") {
		t.Errorf("rows = %q, want %q", rows, want)
	}
	if h, _ := doc.Find(testid("user-row") + " th a").Eq(1).Attr("href"); h != "/users/2" {
		t.Errorf("bob links to %q, want /users/2", h)
	}
	f := doc.Find(`form[action="/users"]`)
	if v, _ := f.Find(`select[name="role"] option[selected]`).Attr("value"); v != auth.RoleViewer {
		t.Errorf("preselected role = %q, want viewer", v)
	}
	for _, name := range []string{"username", "password", "password2"} {
		if f.Find(`input[name="`+name+`"]`).Length() != 1 {
			t.Errorf("add form lacks %s", name)
		}
	}
	if got, _ := f.Find(`input[name="password"]`).Attr("autocomplete"); got != "new-password" {
		t.Errorf("password autocomplete = %q", got)
	}
}

func TestUsersFormKeepsInputAndShowsErrors(t *testing.T) {
	doc, _ := render(t, views.Users(usersPageWithErrors()))
	f := doc.Find(`form[action="/users"]`)
	if v, _ := f.Find(`input[name="username"]`).Attr("value"); v != "Dana" {
		t.Errorf("username = %q, want what was typed", v)
	}
	if v, _ := f.Find(`select[name="role"] option[selected]`).Attr("value"); v != auth.RoleApprover {
		t.Errorf("role = %q, want what was chosen", v)
	}
	if _, ok := f.Find(`input[name="password"]`).Attr("value"); ok {
		t.Error("the password is echoed back")
	}
	if got := text(doc.Find(testid("password-error"))); !strings.Contains(got, "at least 12 characters") {
		t.Errorf("password error = %q", got)
	}
	if inv, _ := f.Find(`input[name="username"]`).Attr("aria-invalid"); inv != "true" {
		t.Error("the bad user name is not marked invalid")
	}
}

func TestUserPage(t *testing.T) {
	doc, _ := render(t, views.User(userPage(false)))
	for _, action := range []string{"/users/2/role", "/users/2/disable", "/users/2/password"} {
		if doc.Find(`form[action="`+action+`"]`).Length() != 1 {
			t.Errorf("no form for %s", action)
		}
	}
	if doc.Find(`form[action="/users/2/enable"]`).Length() != 0 {
		t.Error("an enabled user has an Enable button")
	}
	if v, _ := doc.Find(`select[name="role"] option[selected]`).Attr("value"); v != auth.RoleOperator {
		t.Errorf("current role preselected = %q", v)
	}

	disabled := userPage(false)
	disabled.User.Disabled = true
	doc, _ = render(t, views.User(disabled))
	if doc.Find(`form[action="/users/2/enable"]`).Length() != 1 || doc.Find(`form[action="/users/2/disable"]`).Length() != 0 {
		t.Error("a disabled user lacks Enable, or still has Disable")
	}

	doc, _ = render(t, views.User(userPage(true)))
	if doc.Find(`form[action="/users/1/disable"]`).Length()+doc.Find(`form[action="/users/1/password"]`).Length() != 0 {
		t.Error("an admin's own page offers disable or reset")
	}
	if doc.Find(`main a[href="/account"]`).Length() != 1 {
		t.Error("an admin's own page does not point to the account page")
	}
}

func TestAccountPage(t *testing.T) {
	doc, _ := render(t, views.Account(accountPage()))
	f := doc.Find(`form[action="/account/password"]`)
	for name, ac := range map[string]string{"current": "current-password", "password": "new-password", "password2": "new-password"} {
		if got, _ := f.Find(`input[name="` + name + `"]`).Attr("autocomplete"); got != ac {
			t.Errorf("%s autocomplete = %q, want %q", name, got, ac)
		}
	}
	if got := text(doc.Find(testid("current-error"))); !strings.Contains(got, "not your current password") {
		t.Errorf("current error = %q", got)
	}
	if doc.Find(testid("must-change")).Length() != 0 {
		t.Error("must-change notice without a change due")
	}
	doc, _ = render(t, views.Account(accountMustChange()))
	if got := text(doc.Find(testid("must-change"))); !strings.Contains(got, "Set a new one to continue") {
		t.Errorf("must-change notice = %q", got)
	}
}

func TestNavForRoles(t *testing.T) {
	for _, tt := range []struct {
		role string
		nav  string
	}{
		{auth.RoleViewer, "Dashboard|Hosts|Changes|History|Namespaces|Audit|Tokens"},
		{auth.RoleApprover, "Dashboard|Hosts|Changes|History|Namespaces|Audit|Tokens"},
		{auth.RoleAdmin, "Dashboard|Hosts|Changes|History|Namespaces|Audit|Users|Webhooks|Tokens"},
	} {
		t.Run(tt.role, func(t *testing.T) {
			c := chrome("users")
			c.Role = tt.role
			doc, _ := render(t, views.Error(views.ErrorPage{Chrome: c, Title: "x"}))
			var links []string
			doc.Find("nav.nav a").Each(func(_ int, a *goquery.Selection) { links = append(links, text(a)) })
			if got := strings.Join(links, "|"); got != tt.nav {
				t.Errorf("nav = %q, want %q", got, tt.nav)
			}
			if h, _ := doc.Find(testid("user")).Attr("href"); h != "/account" {
				t.Errorf("the user name links to %q, want /account", h)
			}
		})
	}
}
