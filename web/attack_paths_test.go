package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"portpanel/auth"
	"portpanel/sysctl/sysctltest"
	"portpanel/web"
)

// trick is one way to dress up a request for a protected route.
type trick struct {
	name   string
	method string
	target string
	hdr    http.Header
}

// pathVariants are spellings of path that a lax router, a proxy or a
// filesystem might take for path itself.
func pathVariants(path string) map[string]string {
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	first := segs[0]
	// The last segment that is a word (not an ID), percent-encoded by one
	// letter: /api/v1/%63hanges.
	encLetter := path
	for i := len(segs) - 1; i >= 0; i-- {
		if s := segs[i]; s != "" && s[0] >= 'a' && s[0] <= 'z' {
			enc := append([]string(nil), segs...)
			enc[i] = fmt.Sprintf("%%%02x", s[0]) + s[1:]
			encLetter = "/" + strings.Join(enc, "/")
			break
		}
	}
	var allEnc strings.Builder
	for _, r := range path {
		if r == '/' {
			allEnc.WriteByte('/')
		} else {
			fmt.Fprintf(&allEnc, "%%%02X", r)
		}
	}
	v := map[string]string{
		"dot-dot":              "/" + first + "/.." + path,
		"dot-dot at the root":  "/.." + path,
		"dot":                  "/." + path,
		"encoded dot-dot":      "/%2e%2e" + path,
		"encoded dot-dot up":   "/" + first + "/%2E%2E" + path,
		"double-encoded dots":  "/%252e%252e" + path,
		"encoded dot-dot/":     "/" + first + "%2f..%2f" + path[1:],
		"double slash":         "/" + path,
		"inner double slash":   strings.Replace(path, "/", "//", 2)[1:],
		"trailing slash":       path + "/",
		"trailing dot":         path + "/.",
		"trailing encoded /":   path + "%2f",
		"upper case":           strings.ToUpper(path),
		"one encoded letter":   encLetter,
		"all encoded":          allEnc.String(),
		"encoded slashes":      "/" + strings.ReplaceAll(path[1:], "/", "%2F"),
		"backslashes":          strings.ReplaceAll(path, "/", "\\"),
		"semicolon parameter":  path + ";jsessionid=x",
		"encoded NUL":          path + "%00",
		"encoded NUL .json":    path + "%00.json",
		"static prefix":        "/static/.." + path,
		"login prefix":         "/login/.." + path,
		"absolute-form target": "http://portpanel.invalid" + path,
	}
	if first != "" {
		v["capitalised"] = "/" + strings.ToUpper(first[:1]) + path[2:]
	}
	return v
}

// TestAttackPathTricksNeverReachAHandler sends, without signing in, every
// protected route of the table dressed up in every way a lax router or a
// proxy might strip: dot segments, double slashes, trailing slashes, case,
// percent-encoding, HEAD, OPTIONS, method override and URL rewrite headers,
// proxy identity headers, and the metrics token on other paths. None may
// answer 2xx, redirect anywhere but the login page, or change anything.
// The anonymous requests carry a real session cookie and its own valid CSRF
// token, so authentication is all that stands in the way.
func TestAttackPathTricksNeverReachAHandler(t *testing.T) {
	if !sysctltest.InNetns(t) { // a request that got through could write the kernel
		return
	}
	e := newEnv(t, sysctltest.ProcSys())
	e.h.Changes.RequireApproval = true
	e.h.MetricsToken = "pp_metrics-only-token"
	admin := e.bearer(t, "root-admin", auth.RoleAdmin)
	anon := e.client(t)
	secret := "attack-path-secret-reason"
	res := anon.postJSON("/api/v1/changes", `{"low":40000,"high":50001,"reason":"`+secret+`"}`, admin.Clone())
	if res.StatusCode != http.StatusAccepted {
		t.Fatalf("seed a proposal: %d %s", res.StatusCode, body(res))
	}
	csrf := anon.csrf("/login")
	cookie := anon.cookieHeader()
	before := dbState(t, e)
	form := formBody("csrf", csrf, "low", "41000", "high", "50001", "reason", "pwned", "confirm", "yes", "role", "admin")

	var tricks []trick
	for _, r := range protectedRoutes(e) {
		path := concrete(r.Path, "1")
		hdr := func(kv ...string) http.Header {
			h := http.Header{"Cookie": {cookie}, "X-Csrf-Token": {csrf}}
			if r.Method != http.MethodGet {
				h.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			for i := 0; i+1 < len(kv); i += 2 {
				h.Set(kv[i], kv[i+1])
			}
			return h
		}
		add := func(name, method, target string, h http.Header) {
			tricks = append(tricks, trick{r.Method + " " + r.Path + " " + name, method, target, h})
		}
		for name, v := range pathVariants(path) {
			add(name, r.Method, v, hdr())
		}
		add("plain", r.Method, path, hdr())
		add("HEAD", http.MethodHead, path, hdr())
		add("OPTIONS", http.MethodOptions, path, hdr("Access-Control-Request-Method", r.Method, "Origin", "http://evil.example"))
		for _, m := range []string{http.MethodPut, http.MethodPatch, http.MethodDelete, "TRACE", "PROPFIND"} {
			add(m, m, path, hdr())
		}
		for _, h := range []string{"X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override"} {
			add(h+" POST on GET", http.MethodGet, path, hdr(h, http.MethodPost))
			add(h+" GET on POST", http.MethodPost, path, hdr(h, http.MethodGet))
		}
		add("_method=GET", http.MethodPost, path+"?_method=GET", hdr())
		for _, h := range []string{"X-Original-URL", "X-Rewrite-URL", "X-Forwarded-Path", "X-Forwarded-Uri"} {
			add(h+" on a missing page", r.Method, "/no-such-page", hdr(h, path))
			add(h+" on /healthz", http.MethodGet, "/healthz", hdr(h, path))
		}
		// Nobody set --trusted-proxy: identity headers are just text.
		for _, h := range []string{"X-Forwarded-User", "Remote-User", "X-Remote-User", "X-Auth-Request-User", "X-Forwarded-Email", "X-Webauth-User"} {
			add(h, r.Method, path, hdr(h, "root-admin", "X-Forwarded-For", "127.0.0.1"))
		}
		for _, a := range []string{"Bearer", "Bearer ", "Bearer pp_wrong", "bearer " + e.h.MetricsToken, "Basic cm9vdC1hZG1pbjpjb3JyZWN0IGhvcnNlIGJhdHRlcnkgc3RhcGxl", "Token pp_x"} {
			add("Authorization "+a, r.Method, path, hdr("Authorization", a))
		}
		if r.Path != web.MetricsPath {
			add("metrics token", r.Method, path, hdr("Authorization", "Bearer "+e.h.MetricsToken))
			add("metrics token via /metrics/..", r.Method, "/metrics/.."+path, hdr("Authorization", "Bearer "+e.h.MetricsToken))
		}
	}

	// Sent eight at a time: there are thousands, and the server must cope.
	work := make(chan trick)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for tr := range work {
				payload := ""
				if tr.method == http.MethodPost || tr.method == http.MethodPut || tr.method == http.MethodPatch {
					payload = form
				}
				got, err := e.tryRaw(tr.method, tr.target, tr.hdr, payload)
				msg := ""
				if err != nil {
					msg = err.Error()
				} else {
					msg = leaked(tr, got, secret)
				}
				if msg != "" {
					mu.Lock()
					t.Errorf("%s (%s %s): %s", tr.name, tr.method, tr.target, msg)
					mu.Unlock()
				}
			}
		})
	}
	for _, tr := range tricks {
		work <- tr
	}
	close(work)
	wg.Wait()
	// The static files are an embedded tree: nothing outside it is served.
	for _, p := range []string{"/static/../../../../etc/passwd", "/static/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
		"/static/..%2f..%2f..%2fetc%2fpasswd", "/static/static.go", "/static/../static/static.go", "/static/..%5c..%5cetc%5cpasswd"} {
		got := e.raw(t, http.MethodGet, p, nil, "")
		if got.status < 400 || strings.Contains(got.body, "root:") || strings.Contains(got.body, "package static") {
			t.Errorf("GET %s: %d\n%.200s", p, got.status, got.body)
		}
	}
	if after := dbState(t, e); after != before {
		t.Errorf("anonymous requests changed the database:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	assertKernel(t, kernelDefault)
	if f := fileContent(t, e.file); f != "<absent>" {
		t.Errorf("anonymous requests wrote the managed file:\n%s", f)
	}
	wantChainIntact(t, e)
	t.Logf("%d tricks sent", len(tricks))
}

// leaked says what is wrong with the answer to an anonymous trick, or "".
func leaked(tr trick, got rawResult, secret string) string {
	if strings.Contains(got.body, secret) {
		return fmt.Sprintf("status %d and the body shows protected content", got.status)
	}
	if tr.target == "/healthz" {
		// The public page it was sent to answers as it always does.
		if got.status != http.StatusOK || !strings.Contains(got.body, `"ok"`) {
			return fmt.Sprintf("status %d %q, want /healthz's own answer", got.status, got.body)
		}
		return ""
	}
	switch got.status {
	case http.StatusMovedPermanently, http.StatusPermanentRedirect, http.StatusFound, http.StatusTemporaryRedirect:
		// A cleaned path would be asked again, and authenticated then; but
		// it must stay on this server.
		if loc := got.header.Get("Location"); !strings.HasPrefix(loc, "/") || strings.HasPrefix(loc, "//") || strings.HasPrefix(loc, "/\\") {
			return fmt.Sprintf("status %d to %q, off this server", got.status, loc)
		}
	case http.StatusSeeOther:
		if loc := got.header.Get("Location"); !strings.HasPrefix(loc, "/login") {
			return fmt.Sprintf("status 303 to %q, want the login page", loc)
		}
	case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusMethodNotAllowed:
	case http.StatusNoContent:
		// echo answers a preflight OPTIONS itself, with Allow and nothing else.
		if tr.method != http.MethodOptions || got.body != "" {
			return fmt.Sprintf("status 204 %q", got.body)
		}
	default:
		return fmt.Sprintf("status %d, want 301, 303 (to /login), 400, 401, 403, 404 or 405\n%.300s", got.status, got.body)
	}
	return ""
}
