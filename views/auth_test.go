package views_test

import (
	"strings"
	"testing"

	"portpanel/views"
)

func TestLogin(t *testing.T) {
	doc, _ := render(t, views.Login(views.LoginPage{Chrome: views.Chrome{CSRF: "c"}, Username: "alice", Error: "Wrong user name or password."}))
	f := doc.Find(`form[action="/login"]`)
	for name, ac := range map[string]string{"username": "username", "password": "current-password"} {
		if got, _ := f.Find(`input[name="` + name + `"]`).Attr("autocomplete"); got != ac {
			t.Errorf("%s autocomplete = %q, want %q", name, got, ac)
		}
	}
	if v, _ := f.Find(`input[name="username"]`).Attr("value"); v != "alice" {
		t.Errorf("username = %q", v)
	}
	if _, ok := f.Find(`input[name="password"]`).Attr("value"); ok {
		t.Error("password echoed back")
	}
	if got := text(doc.Find(testid("form-error"))); !strings.Contains(got, "Wrong user name or password.") {
		t.Errorf("error = %q", got)
	}
}

func TestSetup(t *testing.T) {
	p := views.SetupPage{Chrome: views.Chrome{CSRF: "c"}, Token: "tok", Username: "root",
		Errors: map[string]string{"password2": "The passwords differ."}}
	doc, _ := render(t, views.Setup(p))
	f := doc.Find(`form[action="/setup"]`)
	if v, _ := f.Find(`input[type="hidden"][name="token"]`).Attr("value"); v != "tok" {
		t.Errorf("token = %q", v)
	}
	for _, name := range []string{"username", "password", "password2"} {
		if f.Find(`input[name="`+name+`"]`).Length() != 1 {
			t.Errorf("no %s field", name)
		}
	}
	if got, _ := f.Find(`input[name="password"]`).Attr("autocomplete"); got != "new-password" {
		t.Errorf("password autocomplete = %q", got)
	}
	if got := text(doc.Find(testid("password2-error"))); !strings.Contains(got, "The passwords differ.") {
		t.Errorf("password2 error = %q", got)
	}
	if doc.Find(testid("password-error")).Length() != 0 {
		t.Error("password error without one")
	}
	if !strings.Contains(text(doc.Find("main")), "Create the first administrator. This link works once.") {
		t.Error("no explanation")
	}
}

func TestErrorPage(t *testing.T) {
	for _, tt := range []struct {
		name string
		user string
		link string
	}{
		{"signed in goes back to the dashboard", "alice", "/"},
		{"anonymous goes to sign in", "", "/login"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := chrome("")
			c.User = tt.user
			doc, _ := render(t, views.Error(views.ErrorPage{Chrome: c, Code: 403, Title: "Not allowed", Message: "Viewers cannot change the range."}))
			if got := text(doc.Find(testid("error-code"))); got != "403" {
				t.Errorf("code = %q", got)
			}
			if got := text(doc.Find("h1")); got != "Not allowed" {
				t.Errorf("title = %q", got)
			}
			if doc.Find(testid("error")+` a[href="`+tt.link+`"]`).Length() != 1 {
				t.Errorf("no link to %s", tt.link)
			}
		})
	}
}
