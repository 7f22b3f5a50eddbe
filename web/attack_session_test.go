package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"portpanel/auth"
	"portpanel/sysctl/sysctltest"
)

// TestAttackCSRFOnEveryUnsafeRoute walks every unsafe route of the table as
// a signed-in admin (whose role allows all of them) and sends it with no
// CSRF token, a made-up one, the token of another user's session, the
// token of an anonymous session, and the right token from another origin.
// Every one must be 403 and change nothing. Sign-in and setup are covered
// too: a forged sign-in (login CSRF) is as bad as a forged change.
func TestAttackCSRFOnEveryUnsafeRoute(t *testing.T) {
	if !sysctltest.InNetns(t) { // a forged request that got through could write the kernel
		return
	}
	e := newEnv(t, sysctltest.ProcSys())
	e.h.Changes.RequireApproval = true
	op := e.bearer(t, "proposer", auth.RoleOperator)
	admin := e.login(t, auth.RoleAdmin)
	if res := admin.postJSON("/api/v1/changes", `{"low":40000,"high":50001,"reason":"csrf target"}`, op); res.StatusCode != http.StatusAccepted {
		t.Fatalf("seed a proposal: %d %s", res.StatusCode, body(res))
	}
	own := admin.csrf("/")
	viewer := e.login(t, auth.RoleViewer)
	anon := e.client(t)
	before := dbState(t, e)

	for _, tt := range []struct {
		name string
		hdr  http.Header
		form url.Values
	}{
		{"missing", nil, nil},
		{"empty", nil, url.Values{"csrf": {""}}},
		{"made up", nil, url.Values{"csrf": {"pp_not-the-token"}}},
		{"own token with one character changed", nil, url.Values{"csrf": {flip(own)}}},
		{"another user's session", nil, url.Values{"csrf": {viewer.csrf("/")}}},
		{"an anonymous session", nil, url.Values{"csrf": {anon.csrf("/login")}}},
		{"another session's in the header", http.Header{"X-Csrf-Token": {viewer.csrf("/")}}, nil},
		{"wrong header beside the right field", http.Header{"X-Csrf-Token": {"pp_wrong"}}, url.Values{"csrf": {own}}},
		{"right token, cross-site", http.Header{"Sec-Fetch-Site": {"cross-site"}, "Origin": {"http://evil.example"}}, url.Values{"csrf": {own}}},
		{"right token, foreign Origin", http.Header{"Origin": {"http://evil.example"}}, url.Values{"csrf": {own}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, r := range unsafeRoutes(e) {
				path := concrete(r.Path, "1")
				f := url.Values{"low": {"41000"}, "high": {"50001"}, "reason": {"forged"}, "confirm": {"yes"},
					"username": {"admin1"}, "password": {testPassword}, "role": {"admin"}, "name": {"forged"}}
				for k, v := range tt.form {
					f[k] = v
				}
				hdr := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
				for k, v := range tt.hdr {
					hdr[k] = v
				}
				res := admin.do(r.Method, path, hdr, strings.NewReader(f.Encode()))
				if res.StatusCode != http.StatusForbidden {
					t.Errorf("%s %s: %d, want 403\n%.300s", r.Method, path, res.StatusCode, body(res))
				}
			}
		})
	}
	if after := dbState(t, e); after != before {
		t.Errorf("forged requests changed the database:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	assertKernel(t, kernelDefault)
	// The admin is still signed in: a forged sign-out did not happen either.
	if res := admin.get("/"); res.StatusCode != http.StatusOK {
		t.Errorf("the admin's session after the forged requests: %d, want 200", res.StatusCode)
	}
}

func flip(s string) string {
	b := []byte(s)
	if b[len(b)-1] == 'A' {
		b[len(b)-1] = 'B'
	} else {
		b[len(b)-1] = 'A'
	}
	return string(b)
}

// TestAttackAPIWritesNeedCSRFOnlyWithACookie sends every API write with a
// session cookie and no X-CSRF-Token (403, as a page's script on another
// site could), and the same with a bearer token and no cookie (no CSRF
// check: a browser never sends the token on its own).
func TestAttackAPIWritesNeedCSRFOnlyWithACookie(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	e := newEnv(t, sysctltest.ProcSys())
	e.h.Changes.RequireApproval = true
	op := e.bearer(t, "proposer", auth.RoleOperator)
	admin := e.login(t, auth.RoleAdmin)
	adminToken := e.bearer(t, "admin-script", auth.RoleAdmin)
	if res := admin.postJSON("/api/v1/changes", `{"low":40000,"high":50001,"reason":"api csrf target"}`, op); res.StatusCode != http.StatusAccepted {
		t.Fatalf("seed a proposal: %d %s", res.StatusCode, body(res))
	}
	before := dbState(t, e)
	const payload = `{"low":41000,"high":50001,"reason":"from a script"}`
	var apiWrites []string
	for _, r := range unsafeRoutes(e) {
		if strings.HasPrefix(r.Path, "/api/") {
			apiWrites = append(apiWrites, r.Method+" "+concrete(r.Path, "1"))
		}
	}
	if len(apiWrites) == 0 {
		t.Fatal("the route table has no API writes")
	}
	for _, mp := range apiWrites {
		method, path, _ := strings.Cut(mp, " ")
		for _, ct := range []string{"application/json", "text/plain", "application/x-www-form-urlencoded"} {
			res := admin.do(method, path, http.Header{"Content-Type": {ct}}, strings.NewReader(payload))
			if res.StatusCode != http.StatusForbidden {
				t.Errorf("%s with the session cookie, %s, no X-CSRF-Token: %d, want 403\n%.300s", mp, ct, res.StatusCode, body(res))
			}
		}
	}
	if after := dbState(t, e); after != before {
		t.Fatalf("cookie requests without a CSRF token changed the database:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	script := e.client(t) // no cookie at all
	for _, mp := range apiWrites {
		method, path, _ := strings.Cut(mp, " ")
		res := script.do(method, path, http.Header{"Content-Type": {"application/json"}, "Authorization": adminToken["Authorization"]}, strings.NewReader(payload))
		if b := body(res); res.StatusCode == http.StatusUnauthorized || strings.Contains(b, "CSRF token") {
			t.Errorf("%s with a bearer token and no CSRF token: %d, want it past authentication and CSRF\n%.300s", mp, res.StatusCode, b)
		}
	}
	res := script.postJSON("/api/v1/changes", payload, adminToken.Clone())
	if res.StatusCode != http.StatusAccepted {
		t.Errorf("POST /api/v1/changes with a bearer token: %d, want 202\n%s", res.StatusCode, body(res))
	}
}

// TestAttackSessionFixation plants a session ID in the victim's browser
// before sign-in: one the server issued to the attacker (by visiting
// /login) and one the attacker made up. Neither may be the session the
// victim signs in to, and the planted one must stay anonymous afterwards.
func TestAttackSessionFixation(t *testing.T) {
	e := newEnv(t, sysctltest.ProcSys())
	e.addUser(t, "victim", auth.RoleAdmin)
	base := mustURL(t, e.srv.URL)

	attacker := e.client(t)
	attackerCSRF := attacker.csrf("/login")
	planted := attacker.http.Jar.Cookies(base)
	if len(planted) != 1 || planted[0].Name != "portpanel_session" {
		t.Fatalf("visiting /login gave the cookies %v, want one session cookie", planted)
	}

	for _, tt := range []struct {
		name   string
		cookie *http.Cookie
	}{
		{"issued to the attacker", planted[0]},
		{"made up", &http.Cookie{Name: "portpanel_session", Value: "attacker-chosen-session-id-0123456789abcdef"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			victim := e.client(t)
			victim.http.Jar.SetCookies(base, []*http.Cookie{{Name: tt.cookie.Name, Value: tt.cookie.Value, Path: "/"}})
			res := victim.post("/login", url.Values{"username": {"victim"}, "password": {testPassword}, "csrf": {victim.csrf("/login")}})
			if res.StatusCode != http.StatusSeeOther {
				t.Fatalf("the victim's sign-in: %d\n%s", res.StatusCode, body(res))
			}
			after := victim.http.Jar.Cookies(base)
			if len(after) != 1 || after[0].Value == tt.cookie.Value {
				t.Fatalf("after sign-in the victim's session cookie is %v, the planted %q", after, tt.cookie.Value)
			}
			if res := victim.get("/"); res.StatusCode != http.StatusOK {
				t.Fatalf("the victim after sign-in: %d, want 200", res.StatusCode)
			}
			// The CSRF token of the planted session died with it: a forged
			// form carrying it, sent by the victim's browser, is refused.
			res = victim.post("/logout", url.Values{"csrf": {attackerCSRF}})
			if res.StatusCode != http.StatusForbidden {
				t.Errorf("the victim's browser posting the planted session's CSRF token: %d, want 403", res.StatusCode)
			}
			// The attacker, still holding the planted ID, is nobody.
			thief := e.client(t)
			thief.http.Jar.SetCookies(base, []*http.Cookie{{Name: tt.cookie.Name, Value: tt.cookie.Value, Path: "/"}})
			if res := thief.get("/"); res.StatusCode != http.StatusSeeOther {
				t.Errorf("GET / with the planted session ID: %d, want 303 to the login page", res.StatusCode)
			}
			if res := thief.get("/api/v1/changes"); res.StatusCode != http.StatusUnauthorized {
				t.Errorf("GET /api/v1/changes with the planted session ID: %d, want 401", res.StatusCode)
			}
			res = thief.postJSON("/api/v1/changes", `{"low":41000,"high":50001,"reason":"fixated"}`, http.Header{"X-Csrf-Token": {attackerCSRF}})
			if res.StatusCode != http.StatusUnauthorized && res.StatusCode != http.StatusForbidden {
				t.Errorf("POST /api/v1/changes with the planted session ID and its CSRF token: %d, want 401 or 403", res.StatusCode)
			}
		})
	}
	if n := countRows(t, e, "changes"); n != 0 {
		t.Errorf("%d changes recorded, want none", n)
	}
}

// TestAttackStolenCookieAfterLogout extends TestSessionEndsAtLogout: after
// sign-out the stolen cookie opens neither pages nor the API, its CSRF
// token is worth nothing, and the browser's new cookie is another one.
func TestAttackStolenCookieAfterLogout(t *testing.T) {
	e := newEnv(t, sysctltest.ProcSys())
	base := mustURL(t, e.srv.URL)
	c := e.login(t, auth.RoleAdmin)
	csrf := c.csrf("/")
	stolen := c.http.Jar.Cookies(base)
	if res := c.post("/logout", url.Values{"csrf": {csrf}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", res.StatusCode)
	}
	if now := c.http.Jar.Cookies(base); len(now) == 1 && now[0].Value == stolen[0].Value {
		t.Error("the session ID did not change at sign-out")
	}
	if res := c.get("/api/v1/changes"); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("the signed-out browser reads the API: %d, want 401", res.StatusCode)
	}
	thief := e.client(t)
	thief.http.Jar.SetCookies(base, stolen)
	for _, p := range []string{"/", "/changes", "/audit"} {
		if res := thief.get(p); res.StatusCode != http.StatusSeeOther {
			t.Errorf("GET %s with the stolen cookie: %d, want 303 to the login page", p, res.StatusCode)
		}
	}
	for _, p := range []string{"/api/v1/changes", "/api/v1/range", "/api/v1/audit", "/metrics"} {
		if res := thief.get(p); res.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET %s with the stolen cookie: %d, want 401", p, res.StatusCode)
		}
	}
	res := thief.postJSON("/api/v1/changes", `{"low":41000,"high":50001,"reason":"stolen"}`, http.Header{"X-Csrf-Token": {csrf}})
	if res.StatusCode != http.StatusUnauthorized && res.StatusCode != http.StatusForbidden {
		t.Errorf("POST /api/v1/changes with the stolen cookie and its CSRF token: %d, want 401 or 403", res.StatusCode)
	}
	if res := thief.post("/logout", url.Values{"csrf": {csrf}}); res.StatusCode != http.StatusUnauthorized && res.StatusCode != http.StatusForbidden {
		t.Errorf("POST /logout with the stolen cookie: %d, want 401 or 403", res.StatusCode)
	}
	if n := countRows(t, e, "changes"); n != 0 {
		t.Errorf("%d changes recorded, want none", n)
	}
}
