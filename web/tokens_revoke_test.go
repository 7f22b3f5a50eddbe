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

func TestRevokeTokens(t *testing.T) {
	e := newEnv(t, sysctltest.ProcSys())
	vera := e.loginAs(t, "vera", auth.RoleViewer)
	otto := e.loginAs(t, "otto", auth.RoleOperator)
	ada := e.loginAs(t, "ada", auth.RoleAdmin)
	veraSecret := createToken(t, vera, "name", "vera's")
	ottoSecret := createToken(t, otto, "name", "otto's")
	veraTok, ottoTok := tokenID(t, e, "vera's"), tokenID(t, e, "otto's")
	revoke := func(c *client, id int64) *http.Response {
		return c.post("/tokens/"+strconv.FormatInt(id, 10)+"/revoke", url.Values{"csrf": {c.csrf("/tokens")}})
	}

	// Lists: your own, or everyone's for an admin, with whose it is.
	if rows := doc(t, vera.get("/tokens")).Find(`[data-testid="token-row"]`); rows.Length() != 1 {
		t.Errorf("vera sees %d tokens, want her 1", rows.Length())
	}
	if rows := doc(t, ada.get("/tokens")).Find(`[data-testid="token-row"]`); rows.Length() != 2 || !strings.Contains(rows.Text(), "otto") {
		t.Errorf("the admin sees %d tokens (%q), want both with owners", rows.Length(), rows.Text())
	}

	if res := revoke(otto, veraTok); res.StatusCode != http.StatusForbidden {
		t.Errorf("otto revoking vera's token: %d, want 403", res.StatusCode)
	}
	if res := apiGet(vera, http.Header{"Authorization": {"Bearer " + veraSecret}}); res.StatusCode != http.StatusOK {
		t.Errorf("vera's token after otto's refused revoke: %d, want 200", res.StatusCode)
	}
	if res := revoke(vera, veraTok); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/tokens" {
		t.Errorf("vera revoking her own token: %d to %q, want 303 to /tokens", res.StatusCode, res.Header.Get("Location"))
	}
	if res := apiGet(vera, http.Header{"Authorization": {"Bearer " + veraSecret}}); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("revoked token: %d, want 401", res.StatusCode)
	}
	if res := revoke(ada, ottoTok); res.StatusCode != http.StatusSeeOther {
		t.Errorf("the admin revoking otto's token: %d, want 303", res.StatusCode)
	}
	if res := apiGet(otto, http.Header{"Authorization": {"Bearer " + ottoSecret}}); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("token revoked by the admin: %d, want 401", res.StatusCode)
	}
	if res := revoke(ada, ottoTok); res.StatusCode != http.StatusNotFound {
		t.Errorf("revoking again: %d, want 404", res.StatusCode)
	}
	if last := lastAudit(t, e); last.Action != "token.revoked" || !strings.Contains(last.Detail, `"otto's" of otto revoked`) || last.User != "ada" {
		t.Errorf("last audit event = %+v, want the admin's revocation of otto's token", last)
	}
}

func tokenCount(t *testing.T, e *env) int {
	t.Helper()
	var n int
	if err := e.h.DB.SQL().QueryRow(`SELECT COUNT(*) FROM tokens`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func lastAudit(t *testing.T, e *env) db.AuditEvent {
	t.Helper()
	events, err := e.h.DB.Audit(t.Context(), 1, 0)
	if err != nil || len(events) != 1 {
		t.Fatalf("last audit event: %v, %v", events, err)
	}
	return events[0]
}

func tokenID(t *testing.T, e *env, name string) int64 {
	t.Helper()
	var id int64
	if err := e.h.DB.SQL().QueryRow(`SELECT id FROM tokens WHERE name = ?`, name).Scan(&id); err != nil {
		t.Fatalf("token %q: %v", name, err)
	}
	return id
}

func TestTokenFormsNeedCSRFAndBearerRequestsDoNot(t *testing.T) {
	e := newEnv(t, sysctltest.ProcSys())
	otto := e.loginAs(t, "otto", auth.RoleOperator)
	createToken(t, otto)
	id := strconv.FormatInt(tokenID(t, e, "ci"), 10)
	foreign := e.client(t).csrf("/login")
	for name, token := range map[string]string{"missing": "", "wrong": "pp_wrong", "another session's": foreign} {
		f := tokenForm(token, "name", "sneaky")
		if token == "" {
			f.Del("csrf")
		}
		if res := otto.post("/tokens", f); res.StatusCode != http.StatusForbidden {
			t.Errorf("create with %s CSRF token: %d, want 403", name, res.StatusCode)
		}
		if res := otto.post("/tokens/"+id+"/revoke", url.Values{"csrf": f["csrf"]}); res.StatusCode != http.StatusForbidden {
			t.Errorf("revoke with %s CSRF token: %d, want 403", name, res.StatusCode)
		}
	}
	if n := tokenCount(t, e); n != 1 {
		t.Errorf("%d tokens after refused forms, want the 1 created", n)
	}

	// The API: a bearer token needs no CSRF token, a session cookie does.
	_, bearer := e.addToken(t, mustUser(t, e, "otto"), auth.RoleOperator, nil)
	if got := operatorWrite(e.client(t), bearer); got != http.StatusUnprocessableEntity {
		t.Errorf("API write with a bearer token and no CSRF token: %d, want 422 (past CSRF)", got)
	}
	if got := operatorWrite(otto, http.Header{}); got != http.StatusForbidden {
		t.Errorf("API write with the session cookie and no CSRF token: %d, want 403", got)
	}
	if got := operatorWrite(otto, otto.apiHeader()); got != http.StatusUnprocessableEntity {
		t.Errorf("API write with the session cookie and its CSRF token: %d, want 422", got)
	}
}

// A token cannot mint a successor that outlives its own expiry or
// revocation, nor list or revoke tokens.
func TestTokensCannotManageTokens(t *testing.T) {
	e := newEnv(t, sysctltest.ProcSys())
	tok, bearer := e.addToken(t, e.addUser(t, "ada", auth.RoleAdmin), auth.RoleAdmin, nil)
	c := e.client(t)
	form := strings.NewReader(tokenForm("").Encode())
	hdr := bearer.Clone()
	hdr.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, res := range []*http.Response{
		c.do(http.MethodGet, "/tokens", bearer.Clone(), nil),
		c.do(http.MethodPost, "/tokens", hdr, form),
		c.do(http.MethodPost, "/tokens/"+strconv.FormatInt(tok.ID, 10)+"/revoke", bearer.Clone(), nil),
	} {
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("%s %s with a token: %d, want 403", res.Request.Method, res.Request.URL.Path, res.StatusCode)
		}
	}
	if n := tokenCount(t, e); n != 1 {
		t.Errorf("%d tokens, want only the one", n)
	}
}
