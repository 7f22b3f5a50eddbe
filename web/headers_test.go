package web_test

import (
	"cmp"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"portpanel/static"
	"portpanel/sysctl/sysctltest"
)

// wantCSP is the policy, spelled out here so a change to it is a change
// to this test too.
const wantCSP = "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

// pageHeaders are the security headers of every page; apiOnlyHeaders those
// of the answers that are data (JSON, CSV, metrics), which no browser
// renders as a document, so the headers that govern one are left off.
var (
	pageHeaders = map[string]string{
		"Content-Security-Policy":    wantCSP,
		"X-Content-Type-Options":     "nosniff",
		"Referrer-Policy":            "no-referrer",
		"X-Frame-Options":            "DENY",
		"Cross-Origin-Opener-Policy": "same-origin",
		"Permissions-Policy":         "camera=(), geolocation=(), microphone=(), payment=(), usb=()",
	}
	apiOnlyHeaders = map[string]string{
		"Content-Security-Policy":    "default-src 'none'; frame-ancestors 'none'",
		"X-Content-Type-Options":     "nosniff",
		"X-Frame-Options":            "DENY",
		"Referrer-Policy":            "",
		"Cross-Origin-Opener-Policy": "",
		"Permissions-Policy":         "",
	}
)

// Inline code that the policy would block, and so must not be on any page.
var (
	inlineScript = regexp.MustCompile(`<script(\s[^>]*)?>\s*[^<\s]`)
	inlineStyle  = regexp.MustCompile(`(?i)<style|\sstyle=`)
	inlineEvent  = regexp.MustCompile(`(?i)<[^>]+\son[a-z]+=`)
)

func TestSecurityHeadersOnEveryKindOfResponse(t *testing.T) {
	e := newEnv(t, sysctltest.ProcSys())
	anon := e.client(t)
	user := e.login(t, "operator")
	bearer := e.bearer(t, "script", "viewer")
	tests := []struct {
		name   string
		c      *client
		method string
		path   string
		status int
		// cache is the Cache-Control wanted, "no-store" when empty: the
		// static files alone may be kept.
		cache string
		data  bool // an answer for programs, with apiOnlyHeaders
		token bool // sent with a viewer's API token
	}{
		{name: "public page", c: anon, method: "GET", path: "/login", status: 200},
		{name: "signed-in page", c: user, method: "GET", path: "/", status: 200},
		{name: "signed-in list", c: user, method: "GET", path: "/audit", status: 200},
		{name: "API answer", c: user, method: "GET", path: "/api/v1/range", status: 200, data: true},
		{name: "API answer to a token", c: anon, token: true, method: "GET", path: "/api/v1/range", status: 200, data: true},
		{name: "API CSV export", c: anon, token: true, method: "GET", path: "/api/v1/audit/export", status: 200, data: true},
		{name: "API 401", c: anon, method: "GET", path: "/api/v1/range", status: 401, data: true},
		{name: "error page 404", c: user, method: "GET", path: "/no/such/page", status: 404},
		{name: "API 404", c: user, method: "GET", path: "/api/v1/changes/999", status: 404, data: true},
		{name: "API 404 to a token", c: anon, token: true, method: "GET", path: "/api/v1/changes/999", status: 404, data: true},
		{name: "API 404, no such route", c: anon, token: true, method: "GET", path: "/api/v1/nothing", status: 404, data: true},
		{name: "metrics", c: anon, token: true, method: "GET", path: "/metrics", status: 200, data: true},
		{name: "CSRF 403", c: user, method: "POST", path: "/changes", status: 403},
		{name: "redirect to login", c: anon, method: "GET", path: "/history", status: 303},
		{name: "health check", c: anon, method: "GET", path: "/healthz", status: 200, data: true},
		{name: "static file", c: user, method: "GET", path: static.Path("app.css"), status: 200, cache: "public, max-age=31536000, immutable"},
		{name: "static file, anonymous", c: anon, method: "GET", path: static.Path("app.js"), status: 200, cache: "public, max-age=31536000, immutable"},
		{name: "static file at its plain URL", c: anon, method: "GET", path: "/static/app.css", status: 200, cache: "no-cache"},
		{name: "404 under /static/", c: user, method: "GET", path: "/static/nope.css", status: 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hdr := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
			if tt.token {
				hdr["Authorization"] = bearer["Authorization"]
			}
			res := tt.c.do(tt.method, tt.path, hdr, nil)
			if res.StatusCode != tt.status {
				t.Fatalf("%s %s: %d, want %d", tt.method, tt.path, res.StatusCode, tt.status)
			}
			want := pageHeaders
			if tt.data {
				want = apiOnlyHeaders
			}
			for k, v := range want {
				if got := res.Header.Get(k); got != v {
					t.Errorf("%s: %q, want %q", k, got, v)
				}
			}
			if got := res.Header.Values("Strict-Transport-Security"); len(got) > 0 {
				t.Errorf("Strict-Transport-Security over plain HTTP: %q, want none", got)
			}
			if got, want := res.Header.Get("Cache-Control"), cmp.Or(tt.cache, "no-store"); got != want {
				t.Errorf("Cache-Control %q, want %q", got, want)
			}
			// A file is the same for everyone: the session is neither
			// loaded nor renewed for it (issue 6).
			if tt.cache != "" && len(res.Header.Values("Set-Cookie")) > 0 {
				t.Errorf("Set-Cookie %q on a static file, want none", res.Header.Values("Set-Cookie"))
			}
			if strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
				html := body(res)
				for what, re := range map[string]*regexp.Regexp{"inline script": inlineScript, "inline style": inlineStyle, "inline event handler": inlineEvent} {
					if m := re.FindString(html); m != "" {
						t.Errorf("%s, which the policy blocks: %q", what, m)
					}
				}
			}
		})
	}
}

// A body over 64 KiB is refused before any handler reads it: with a
// length (Content-Length) or without one (chunked), as a page for forms
// and as JSON under /api/.
func TestOversizedBodiesGet413(t *testing.T) {
	e := newEnv(t, sysctltest.ProcSys())
	user := e.login(t, "operator")
	anon := e.client(t)
	token := user.csrf("/")
	big := strings.Repeat("x", 65<<10)
	form := url.Values{"csrf": {token}, "low": {"40000"}, "high": {"60000"}, "reason": {big}}.Encode()
	jsonBody := `{"low": 40000, "high": 60000, "reason": "` + big + `"}`
	formHdr := func() http.Header { return http.Header{"Content-Type": {"application/x-www-form-urlencoded"}} }
	jsonHdr := func() http.Header {
		return http.Header{"Content-Type": {"application/json"}, "X-Csrf-Token": {token}}
	}
	tests := []struct {
		name    string
		c       *client
		path    string
		hdr     http.Header
		payload string
		api     bool
	}{
		{name: "form", c: user, path: "/changes", hdr: formHdr(), payload: form},
		{name: "sign-in form, anonymous", c: anon, path: "/login", hdr: formHdr(), payload: "username=a&password=" + big},
		{name: "JSON", c: user, path: "/api/v1/changes", hdr: jsonHdr(), payload: jsonBody, api: true},
	}
	for _, tt := range tests {
		for _, chunked := range []bool{false, true} {
			name := tt.name + ", Content-Length"
			if chunked {
				name = tt.name + ", chunked"
			}
			t.Run(name, func(t *testing.T) {
				var payload io.Reader = strings.NewReader(tt.payload)
				if chunked {
					// A body of unknown length (ContentLength 0, body not nil) is
					// sent in chunks (net/http, Request.ContentLength).
					payload = io.MultiReader(payload)
				}
				res := tt.c.do(http.MethodPost, tt.path, tt.hdr, payload)
				if res.StatusCode != http.StatusRequestEntityTooLarge {
					t.Fatalf("%d bytes to %s: %d, want 413\n%s", len(tt.payload), tt.path, res.StatusCode, body(res))
				}
				const msg = "larger than 64 KiB"
				if tt.api {
					var got struct{ Error string }
					if err := json.NewDecoder(res.Body).Decode(&got); err != nil || !strings.Contains(got.Error, msg) {
						t.Errorf("JSON error %+v (%v), want one saying %q", got, err, msg)
					}
				} else if b := body(res); !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") || !strings.Contains(b, msg) {
					t.Errorf("want an HTML page saying %q, got %s:\n%s", msg, res.Header.Get("Content-Type"), b)
				}
			})
		}
	}
	// Just under the limit passes it, chunked or not, and the form still
	// reads: the CSRF token at its start counts, and the sign-in is refused
	// for the password (401), or for too many tries (429), not for the token.
	for _, chunked := range []bool{false, true} {
		c := e.client(t)
		form := url.Values{"username": {"nobody"}, "password": {"wrong"}, "csrf": {c.csrf("/login")}}.Encode() + "&pad=" + strings.Repeat("x", 60<<10)
		var payload io.Reader = strings.NewReader(form)
		if chunked {
			payload = io.MultiReader(payload)
		}
		hdr := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
		if res := c.do(http.MethodPost, "/login", hdr, payload); res.StatusCode != http.StatusUnauthorized && res.StatusCode != http.StatusTooManyRequests {
			t.Errorf("60 KiB sign-in form (chunked %v): %d, want 401 or 429 from the sign-in itself", chunked, res.StatusCode)
		}
	}
}
