package views_test

import (
	"strings"
	"testing"
	"time"

	"portpanel/auth"
	"portpanel/db"
	"portpanel/views"
)

const xssName = `<script>alert(1)</script><img src=x onerror=alert(2)>"'&`

// tokensPage is an admin's list: a current token, an expired one with an
// XSS name, one that acts as less than its role, and one from before
// roles.
func tokensPage() views.TokensPage {
	exp, past, used := now.Add(90*24*time.Hour), now.Add(-time.Hour), now.Add(-5*time.Minute)
	row := func(id int64, name, role, owner, ownerRole string, expires *time.Time) views.TokenRow {
		return views.TokenRow{OwnedToken: db.OwnedToken{Token: db.Token{ID: id, Name: name, Role: role,
			CreatedAt: now.Add(-48 * time.Hour), ExpiresAt: expires}, Owner: owner, OwnerRole: ownerRole}}
	}
	rows := []views.TokenRow{
		row(4, "deploy", auth.RoleOperator, "alice", auth.RoleOperator, &exp),
		row(3, xssName, auth.RoleViewer, "bob", auth.RoleViewer, &past),
		row(2, "demoted", auth.RoleOperator, "carol", auth.RoleViewer, nil),
		row(1, "old", "", "alice", auth.RoleOperator, nil),
	}
	rows[0].Acts, rows[0].CanRevoke, rows[0].LastUsedAt = auth.RoleOperator, true, &used
	rows[1].Acts, rows[1].CanRevoke, rows[1].Expired = auth.RoleViewer, true, true
	rows[2].Acts = auth.RoleViewer
	rows[3].Acts, rows[3].CanRevoke = auth.RoleOperator, true
	return views.TokensPage{Chrome: chrome("tokens"), Tokens: rows, All: true, Roles: []string{"viewer", "operator"},
		Users: []string{"alice", "bob"}, Form: views.TokenForm{User: "alice", Role: "viewer", Expires: "90"}}
}

func tokenCreated() views.TokenCreatedPage {
	p := tokensPage()
	return views.TokenCreatedPage{Chrome: chrome("tokens"), Token: p.Tokens[1], Secret: "pp_secret-shown-once"}
}

func TestTokensList(t *testing.T) {
	doc, html := render(t, views.Tokens(tokensPage()))
	if strings.Contains(html, "<script>alert") || strings.Contains(html, "<img src=x") {
		t.Error("the token name's markup reached the page unescaped")
	}
	names := doc.Find(testid("token-name"))
	if names.Length() != 4 || names.Eq(1).Text() != xssName {
		t.Errorf("token names = %d, second %q; want 4, the XSS name as text", names.Length(), names.Eq(1).Text())
	}
	roles := doc.Find(testid("token-role"))
	for i, want := range []string{"operator", "viewer", "operator ▼ acts as viewer", "operator (its user's role)"} {
		if got := text(roles.Eq(i)); got != want {
			t.Errorf("row %d role = %q, want %q", i, got, want)
		}
	}
	if got := text(doc.Find(testid("token-expires")).Eq(1)); !strings.HasPrefix(got, "✗ expired") {
		t.Errorf("expired token's expiry = %q, want it marked expired", got)
	}
	revoke := doc.Find(testid("revoke"))
	if revoke.Length() != 3 {
		t.Errorf("%d Revoke buttons, want 3 (not on the row the viewer may not revoke)", revoke.Length())
	}
	if a, _ := revoke.First().Closest("form").Attr("action"); a != "/tokens/4/revoke" {
		t.Errorf("first Revoke posts to %q", a)
	}
	if doc.Find(`select[name="user"] option`).Length() != 2 || doc.Find(`select[name="role"] option`).Length() != 2 {
		t.Error("the form does not offer the given users and roles")
	}
	if v, _ := doc.Find(`select[name="expires"] option[selected]`).Attr("value"); v != "90" {
		t.Errorf("selected expiry = %q, want 90", v)
	}
	if strings.Contains(html, "pp_") {
		t.Error("the list page shows something like a secret")
	}
}

func TestTokensFormErrorsAndEmptyState(t *testing.T) {
	p := tokensPage()
	p.Tokens, p.All, p.Users = nil, false, nil
	p.Form.Errors = map[string]string{"name": "Give the token a name.", "role": "at most viewer"}
	doc, _ := render(t, views.Tokens(p))
	if doc.Find(testid("empty")).Length() != 1 {
		t.Error("no empty state")
	}
	if doc.Find(`select[name="user"]`).Length() != 0 {
		t.Error("a non-admin is offered other users")
	}
	if got := text(doc.Find(testid("name-error"))); !strings.Contains(got, "Give the token a name.") {
		t.Errorf("name error = %q", got)
	}
	if got := text(doc.Find(testid("token-role-error"))); !strings.Contains(got, "at most viewer") {
		t.Errorf("role error = %q", got)
	}
	if v, _ := doc.Find(`#token-role`).Attr("aria-invalid"); v != "true" {
		t.Error("the role select is not marked invalid")
	}
}

func TestTokenCreatedShowsTheSecretAndEscapesTheName(t *testing.T) {
	doc, html := render(t, views.TokenCreated(tokenCreated()))
	if v, _ := doc.Find(testid("secret")).Attr("value"); v != "pp_secret-shown-once" {
		t.Errorf("secret field = %q", v)
	}
	if _, ro := doc.Find(testid("secret")).Attr("readonly"); !ro {
		t.Error("the secret field is editable")
	}
	if strings.Contains(html, "<script>alert") {
		t.Error("the token name's markup reached the page unescaped")
	}
	if !strings.Contains(text(doc.Find("label[for=token-secret]")), xssName) {
		t.Error("the label does not name the token")
	}
}
