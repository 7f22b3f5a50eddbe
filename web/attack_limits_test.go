package web_test

import (
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"portpanel/auth"
	"portpanel/sysctl/sysctltest"
)

// TestAttackOversizedBodies sends bodies over the 64 KiB limit, as forms and
// as JSON, with a Content-Length and chunked (no length up front), signed
// in, by token and anonymously: every one is 413 and changes nothing.
func TestAttackOversizedBodies(t *testing.T) {
	if !sysctltest.InNetns(t) { // a body that got through could apply a change
		return
	}
	e := newEnv(t, sysctltest.ProcSys())
	op := e.login(t, auth.RoleOperator)
	token := e.bearer(t, "script", auth.RoleOperator)
	anon := e.client(t)
	before := dbState(t, e)
	const limit = 64 << 10
	pad := strings.Repeat("A", limit+1024)
	form := "csrf=" + url.QueryEscape(op.csrf("/")) + "&low=40000&high=50001&confirm=yes&reason=" + pad
	loginForm := "csrf=" + url.QueryEscape(anon.csrf("/login")) + "&username=operator1&password=" + pad
	jsonBody := `{"low":40000,"high":50001,"reason":"` + pad + `"}`
	formCT := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	jsonCT := http.Header{"Content-Type": {"application/json"}}
	tokenJSON := token.Clone()
	tokenJSON.Set("Content-Type", "application/json")
	cookieJSON := op.apiHeader()
	cookieJSON.Set("Content-Type", "application/json")

	for _, tt := range []struct {
		name string
		c    *client
		path string
		hdr  http.Header
		body string
	}{
		{"form, signed in", op, "/changes", formCT, form},
		{"form, sign-in", anon, "/login", formCT, loginForm},
		{"form, anonymous", anon, "/changes", formCT, form},
		{"form, rollback", op, "/changes/1/rollback", formCT, form},
		{"JSON, token", anon, "/api/v1/changes", tokenJSON, jsonBody},
		{"JSON, cookie", op, "/api/v1/changes", cookieJSON, jsonBody},
		{"JSON, anonymous", anon, "/api/v1/changes", jsonCT, jsonBody},
		{"JSON, approve", anon, "/api/v1/changes/1/approve", tokenJSON, jsonBody},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, chunked := range []bool{false, true} {
				var rd io.Reader = strings.NewReader(tt.body)
				if chunked {
					rd = io.MultiReader(rd) // no Len: the client sends it chunked
				}
				if status, b := send(tt.c, tt.path, tt.hdr, rd); status != "413" {
					t.Errorf("POST %s with %d bytes (chunked %v): %s, want 413\n%.300s", tt.path, len(tt.body), chunked, status, b)
				}
			}
		})
	}
	// Exactly 64 KiB is within the limit: read and judged on its content
	// (the reason is too long: 422).
	under := "csrf=" + url.QueryEscape(op.csrf("/")) + "&low=40000&high=50001&reason="
	under += strings.Repeat("A", limit-len(under))
	if status, b := send(op, "/changes", formCT, strings.NewReader(under)); status != "422" {
		t.Errorf("POST /changes with a form of exactly 64 KiB: %s, want 422 (read, and the reason is too long)\n%.300s", status, b)
	}
	j := `{"low":40000,"high":50001,"reason":"`
	j += strings.Repeat("A", limit-len(j)-2) + `"}`
	if status, b := send(anon, "/api/v1/changes", tokenJSON, strings.NewReader(j)); status != "422" {
		t.Errorf("POST /api/v1/changes with JSON of exactly 64 KiB: %s, want 422 (read, and the reason is too long)\n%.300s", status, b)
	}
	if after := dbState(t, e); after != before {
		t.Errorf("oversized requests changed the database:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	assertKernel(t, kernelDefault)
}

// send POSTs rd as c and returns the status, or what went wrong when no
// answer came (a dropped connection), and the body.
func send(c *client, path string, hdr http.Header, rd io.Reader) (string, string) {
	req, err := http.NewRequest(http.MethodPost, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header = hdr.Clone()
	res, err := c.http.Do(req)
	if err != nil {
		return "no answer (" + err.Error() + ")", ""
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return strconv.Itoa(res.StatusCode), string(b)
}

var phc = regexp.MustCompile(`^\$argon2id\$v=(\d+)\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$`)

// wantOWASPHash parses a stored PHC string and checks it is argon2id, v=19,
// with OWASP's minimums (m ≥ 19456 KiB, t ≥ 2, p ≥ 1), a salt of at least
// 16 bytes and a key of at least 32.
func wantOWASPHash(t *testing.T, who, hash string) {
	t.Helper()
	m := phc.FindStringSubmatch(hash)
	if m == nil {
		t.Errorf("%s: the stored hash %q is not an argon2id PHC string", who, hash)
		return
	}
	n := func(i int) int { v, _ := strconv.Atoi(m[i]); return v }
	if n(1) != 19 || n(2) < 19456 || n(3) < 2 || n(4) < 1 {
		t.Errorf("%s: argon2id v=%s m=%s t=%s p=%s, want v=19, m ≥ 19456, t ≥ 2, p ≥ 1", who, m[1], m[2], m[3], m[4])
	}
	// A few memory/time trade-offs OWASP lists are also fine, but never
	// less work than m=19456,t=2.
	if n(2)*n(3) < 19456*2 {
		t.Errorf("%s: m×t = %d, below OWASP's least (19456×2)", who, n(2)*n(3))
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(m[5])
	key, err2 := base64.RawStdEncoding.DecodeString(m[6])
	if err1 != nil || err2 != nil || len(salt) < 16 || len(key) < 32 {
		t.Errorf("%s: salt %d bytes (%v), key %d bytes (%v), want ≥ 16 and ≥ 32", who, len(salt), err1, len(key), err2)
	}
}
