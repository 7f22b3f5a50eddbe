package web_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"portpanel/auth"
	"portpanel/db"
	"portpanel/sysctl/sysctltest"
)

// tokenForm is a valid new-token form; kv overrides fields.
func tokenForm(csrf string, kv ...string) url.Values {
	f := url.Values{"name": {"ci"}, "role": {auth.RoleViewer}, "expires": {"30"}, "csrf": {csrf}}
	for i := 0; i+1 < len(kv); i += 2 {
		f.Set(kv[i], kv[i+1])
	}
	return f
}

func doc(t *testing.T, res *http.Response) *goquery.Document {
	t.Helper()
	d, err := goquery.NewDocumentFromReader(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// createToken submits the form and returns the secret from the page.
func createToken(t *testing.T, c *client, kv ...string) string {
	t.Helper()
	res := c.post("/tokens", tokenForm(c.csrf("/tokens"), kv...))
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("POST /tokens: %d\n%s", res.StatusCode, body(res))
	}
	secret, _ := doc(t, res).Find(`[data-testid="secret"]`).Attr("value")
	if !strings.HasPrefix(secret, "pp_") {
		t.Fatalf("no secret on the created page: %q", secret)
	}
	return secret
}

// addToken stores a token for u straight in the database.
func (e *env) addToken(t *testing.T, u db.User, role string, expires *time.Time) (db.Token, http.Header) {
	t.Helper()
	secret, err := auth.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	tok, err := e.h.DB.AddToken(t.Context(), db.Token{UserID: u.ID, Name: "t", Role: role, ExpiresAt: expires}, auth.HashToken(secret), nil)
	if err != nil {
		t.Fatal(err)
	}
	return tok, http.Header{"Authorization": {"Bearer " + secret}}
}

func apiGet(c *client, hdr http.Header) *http.Response {
	return c.do(http.MethodGet, "/api/v1/range", hdr.Clone(), nil)
}

// operatorWrite is an operator's API call refused by validation (low >
// high) before the kernel is touched: 422 means the role was enough, 403
// that it was not.
func operatorWrite(c *client, hdr http.Header) int {
	return c.postJSON("/api/v1/changes", `{"low":50000,"high":40000,"reason":"role probe"}`, hdr.Clone()).StatusCode
}

func TestCreatedTokenIsShownOnceAndStoredAsItsHash(t *testing.T) {
	e := newEnv(t, sysctltest.ProcSys())
	c := e.loginAs(t, "vera", auth.RoleViewer)
	before := time.Now()
	res := c.post("/tokens", tokenForm(c.csrf("/tokens")))
	if res.StatusCode != http.StatusCreated || res.Header.Get("Cache-Control") != "no-store" || res.Header.Get("Location") != "" {
		t.Fatalf("POST /tokens: %d, Cache-Control %q, Location %q; want 201, no-store, no redirect",
			res.StatusCode, res.Header.Get("Cache-Control"), res.Header.Get("Location"))
	}
	secret, _ := doc(t, res).Find(`[data-testid="secret"]`).Attr("value")
	if len(secret) != len("pp_")+43 || !strings.HasPrefix(secret, "pp_") {
		t.Fatalf("secret %q: want pp_ and 43 base64url characters (256 bits)", secret)
	}
	if res := apiGet(c, http.Header{"Authorization": {"Bearer " + secret}}); res.StatusCode != http.StatusOK {
		t.Errorf("GET /api/v1/range with the new token: %d", res.StatusCode)
	}

	list := body(c.get("/tokens"))
	if strings.Contains(list, secret) || !strings.Contains(list, `data-testid="token-row"`) {
		t.Error("the list shows the secret, or not the token")
	}
	// The database holds the SHA-256 of the secret as 32 raw bytes, and
	// the secret nowhere: not in the token, its audit event or the session.
	var hash []byte
	var expires int64
	if err := e.h.DB.SQL().QueryRow(`SELECT hash, expires_at FROM tokens`).Scan(&hash, &expires); err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256([]byte(secret)); !bytes.Equal(hash, sum[:]) {
		t.Errorf("stored hash %x, want SHA-256 of the secret %x", hash, sum)
	}
	if at := time.UnixMilli(expires); at.Before(before.AddDate(0, 0, 30)) || at.After(time.Now().AddDate(0, 0, 30)) {
		t.Errorf("expires at %v, want 30 days from now", at)
	}
	if _, err := e.h.DB.SQL().Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		t.Fatal(err)
	}
	var file string
	if err := e.h.DB.SQL().QueryRow(`SELECT file FROM pragma_database_list WHERE name = 'main'`).Scan(&file); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{file, file + "-wal"} {
		if b, err := os.ReadFile(f); err == nil && bytes.Contains(b, []byte(secret)) {
			t.Errorf("%s contains the secret", f)
		}
	}
	last := lastAudit(t, e)
	if last.Action != "token.created" || last.User != "vera" || !strings.Contains(last.Detail, `"ci" for vera created: role viewer`) {
		t.Errorf("last audit event = %+v, want token.created by vera", last)
	}
}

func TestTokenFormRules(t *testing.T) {
	e := newEnv(t, sysctltest.ProcSys())
	vera := e.loginAs(t, "vera", auth.RoleViewer)
	otto := e.loginAs(t, "otto", auth.RoleOperator)
	ada := e.loginAs(t, "ada", auth.RoleAdmin)
	tests := []struct {
		name   string
		c      *client
		kv     []string
		status int
		msg    string
	}{
		{"a viewer cannot give a token operator", vera, []string{"role", "operator"}, http.StatusForbidden, "can be at most viewer"},
		{"an operator cannot give a token approver", otto, []string{"role", "approver"}, http.StatusForbidden, "can be at most operator"},
		{"an unknown role", otto, []string{"role", "root"}, http.StatusUnprocessableEntity, "Pick the token&#39;s role"},
		{"a name is required", vera, []string{"name", "  "}, http.StatusUnprocessableEntity, "Give the token a name"},
		{"a name of 101 characters", vera, []string{"name", strings.Repeat("x", 101)}, http.StatusUnprocessableEntity, "at most 100 characters"},
		{"an expiry date in the past", vera, []string{"expires", "date", "expires_on", "2020-01-01"}, http.StatusUnprocessableEntity, "has passed"},
		{"a date expiry without a date", vera, []string{"expires", "date"}, http.StatusUnprocessableEntity, "Pick the expiry date"},
		{"an expiry not offered", vera, []string{"expires", "7"}, http.StatusUnprocessableEntity, "from the list"},
		{"only admins name another user", otto, []string{"user", "vera"}, http.StatusForbidden, "Only an admin"},
		{"an admin cannot give a viewer's token operator", ada, []string{"user", "vera", "role", "operator"}, http.StatusForbidden, "can be at most viewer"},
		{"an admin names an unknown user", ada, []string{"user", "nobody"}, http.StatusUnprocessableEntity, "No user is called"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := tt.c.post("/tokens", tokenForm(tt.c.csrf("/tokens"), tt.kv...))
			if b := body(res); res.StatusCode != tt.status || !strings.Contains(b, tt.msg) {
				t.Errorf("POST /tokens: %d, want %d with %q\n%s", res.StatusCode, tt.status, tt.msg, b)
			}
		})
	}
	if n := tokenCount(t, e); n != 0 {
		t.Fatalf("%d tokens stored by refused forms", n)
	}

	// What is allowed: up to one's own role, and an admin for another user.
	createToken(t, otto, "role", "operator", "expires", "never")
	createToken(t, ada, "user", "vera", "role", "viewer", "expires", "date", "expires_on", time.Now().AddDate(0, 1, 0).Format(time.DateOnly))
	vToks, err := e.h.DB.Tokens(t.Context(), mustUser(t, e, "vera").ID)
	if err != nil || len(vToks) != 1 || vToks[0].Role != auth.RoleViewer || vToks[0].ExpiresAt == nil || vToks[0].ExpiresAt.Hour() != 0 {
		t.Errorf("vera's tokens = %+v, %v; want the admin's viewer token expiring at 00:00 UTC", vToks, err)
	}
}

func mustUser(t *testing.T, e *env, name string) db.User {
	t.Helper()
	u, err := e.h.DB.UserByName(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestTokenActsWithTheLowerOfItsRoleAndItsOwners(t *testing.T) {
	e := newEnv(t, sysctltest.ProcSys())
	otto := e.addUser(t, "otto", auth.RoleOperator)
	_, full := e.addToken(t, otto, auth.RoleOperator, nil)
	_, legacy := e.addToken(t, otto, "", nil)
	_, low := e.addToken(t, otto, auth.RoleViewer, nil)
	c := e.client(t)
	for _, tt := range []struct {
		name string
		hdr  http.Header
		want int
	}{
		{"operator token of an operator", full, http.StatusUnprocessableEntity},
		{"token from before roles", legacy, http.StatusUnprocessableEntity},
		{"viewer token of an operator", low, http.StatusForbidden},
	} {
		if got := operatorWrite(c, tt.hdr); got != tt.want {
			t.Errorf("%s: operator write %d, want %d", tt.name, got, tt.want)
		}
	}

	if _, err := e.h.DB.SQL().Exec(`UPDATE users SET role = 'viewer' WHERE id = ?`, otto.ID); err != nil {
		t.Fatal(err)
	}
	for name, hdr := range map[string]http.Header{"operator token": full, "token from before roles": legacy} {
		if got := operatorWrite(c, hdr); got != http.StatusForbidden {
			t.Errorf("%s after its owner became a viewer: %d, want 403", name, got)
		}
		if res := apiGet(c, hdr); res.StatusCode != http.StatusOK {
			t.Errorf("%s after its owner became a viewer: read %d, want 200", name, res.StatusCode)
		}
	}
	admin := e.loginAs(t, "ada", auth.RoleAdmin)
	page := doc(t, admin.get("/tokens"))
	if got := page.Find(`[data-testid="token-role"]`).Text(); !strings.Contains(got, "acts as viewer") {
		t.Errorf("token list roles %q: want the demoted token shown as acting as viewer", got)
	}
}

func TestExpiredAndDisabledTokensAre401(t *testing.T) {
	e := newEnv(t, sysctltest.ProcSys())
	u := e.addUser(t, "otto", auth.RoleOperator)
	past := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	future := time.Now().Add(time.Hour)
	_, expired := e.addToken(t, u, auth.RoleViewer, &past)
	_, valid := e.addToken(t, u, auth.RoleViewer, &future)
	c := e.client(t)

	res := apiGet(c, expired)
	var out struct{ Error string }
	if res.StatusCode != http.StatusUnauthorized || json.NewDecoder(res.Body).Decode(&out) != nil ||
		out.Error != "API token expired on 2020-01-02 03:04 UTC." || !strings.Contains(res.Header.Get("WWW-Authenticate"), "invalid_token") {
		t.Errorf("expired token: %d %q (WWW-Authenticate %q), want 401 naming the date", res.StatusCode, out.Error, res.Header.Get("WWW-Authenticate"))
	}
	if res := apiGet(c, valid); res.StatusCode != http.StatusOK {
		t.Errorf("token expiring in an hour: %d, want 200", res.StatusCode)
	}

	if _, err := e.h.DB.SQL().Exec(`UPDATE users SET disabled = 1 WHERE id = ?`, u.ID); err != nil {
		t.Fatal(err)
	}
	if res := apiGet(c, valid); res.StatusCode != http.StatusUnauthorized || !strings.Contains(body(res), "disabled") {
		t.Errorf("token of a disabled user: %d, want 401", res.StatusCode)
	}
}

func TestTokenUseIsRecorded(t *testing.T) {
	e := newEnv(t, sysctltest.ProcSys())
	u := e.addUser(t, "otto", auth.RoleOperator)
	tok, hdr := e.addToken(t, u, auth.RoleViewer, nil)
	c := e.client(t)
	before := time.Now().Truncate(time.Millisecond)
	for range 3 {
		if res := apiGet(c, hdr); res.StatusCode != http.StatusOK {
			t.Fatalf("GET: %d", res.StatusCode)
		}
	}
	got, err := e.h.DB.Token(t.Context(), tok.ID)
	if err != nil || got.LastUsedAt == nil || got.LastUsedAt.Before(before) || got.LastUsedAt.After(time.Now()) {
		t.Errorf("last used = %v (%v), want the first request's time", got.LastUsedAt, err)
	}
}

func TestTokenNamesAreInert(t *testing.T) {
	e := newEnv(t, sysctltest.ProcSys())
	c := e.loginAs(t, "vera", auth.RoleViewer)
	const name = `<script>alert(1)</script><img src=x onerror=alert(2)>"'`
	res := c.post("/tokens", tokenForm(c.csrf("/tokens"), "name", name))
	created := body(res)
	list := body(c.get("/tokens"))
	for page, html := range map[string]string{"created": created, "list": list} {
		if strings.Contains(html, "<script>alert") || strings.Contains(html, "<img src=x") {
			t.Errorf("%s page carries the name's markup unescaped", page)
		}
		d, _ := goquery.NewDocumentFromReader(strings.NewReader(html))
		if !strings.Contains(d.Text(), name) {
			t.Errorf("%s page does not show the name verbatim as text", page)
		}
	}
	var stored string
	if err := e.h.DB.SQL().QueryRow(`SELECT name FROM tokens`).Scan(&stored); err != nil || stored != name {
		t.Errorf("stored name %q (%v), want it verbatim", stored, err)
	}
}
