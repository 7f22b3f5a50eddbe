package web

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"portpanel/static"
)

// staticServer is the static route behind the security headers, as New
// stacks them, with a marker middleware wrapped in unlessSessionless.
func staticServer() *echo.Echo {
	e := echo.New()
	e.Use(securityHeaders(nil))
	e.Use(unlessSessionless(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			c.Response().Header().Set("X-Marker", "ran")
			return next(c)
		}
	}))
	registerStatic(e)
	e.GET("/page", func(c echo.Context) error { return c.String(http.StatusOK, "page") })
	e.GET("/api/v1/range", func(c echo.Context) error { return c.String(http.StatusOK, "api") })
	return e
}

func TestStaticFiles(t *testing.T) {
	e := staticServer()
	css, _ := fs.ReadFile(static.FS, "app.css")
	js, _ := fs.ReadFile(static.FS, "app.js")
	a, _, _ := static.Lookup("app.css")
	tests := []struct {
		name    string
		method  string
		path    string
		hdr     http.Header
		status  int
		cache   string // Cache-Control
		gzipped bool
		body    []byte // the decoded body, nil for none
		etag    string
		marker  bool // the middleware unlessSessionless wraps ran
	}{
		{name: "hashed URL, gzip accepted", path: static.Path("app.css"), hdr: http.Header{"Accept-Encoding": {"gzip, deflate, br"}},
			status: 200, cache: cacheImmutable, gzipped: true, body: css, etag: a.GzipETag},
		{name: "hashed URL, no Accept-Encoding", path: static.Path("app.css"),
			status: 200, cache: cacheImmutable, body: css, etag: a.ETag},
		{name: "hashed URL, gzip refused", path: static.Path("app.css"), hdr: http.Header{"Accept-Encoding": {"gzip;q=0, *"}},
			status: 200, cache: cacheImmutable, body: css, etag: a.ETag},
		{name: "hashed URL, any coding", path: static.Path("app.css"), hdr: http.Header{"Accept-Encoding": {"*"}},
			status: 200, cache: cacheImmutable, gzipped: true, body: css, etag: a.GzipETag},
		{name: "hashed script", path: static.Path("app.js"), hdr: http.Header{"Accept-Encoding": {"gzip"}},
			status: 200, cache: cacheImmutable, gzipped: true, body: js},
		{name: "HEAD", method: http.MethodHead, path: static.Path("app.css"),
			status: 200, cache: cacheImmutable, etag: a.ETag},
		{name: "If-None-Match, same file", path: static.Path("app.css"), hdr: http.Header{"If-None-Match": {a.ETag}},
			status: 304, cache: cacheImmutable, etag: a.ETag},
		{name: "If-None-Match, gzip copy", path: static.Path("app.css"), hdr: http.Header{"If-None-Match": {`"x", ` + a.GzipETag}, "Accept-Encoding": {"gzip"}},
			status: 304, cache: cacheImmutable, etag: a.GzipETag},
		{name: "If-None-Match, weak tag", path: "/static/app.css", hdr: http.Header{"If-None-Match": {"W/" + a.ETag}},
			status: 304, cache: cacheRevalidated, etag: a.ETag},
		{name: "If-None-Match, another version", path: static.Path("app.css"), hdr: http.Header{"If-None-Match": {`"0123456789abcdef01234567"`}},
			status: 200, cache: cacheImmutable, body: css, etag: a.ETag},
		{name: "plain URL", path: "/static/app.css",
			status: 200, cache: cacheRevalidated, body: css, etag: a.ETag},
		{name: "another build's hash", path: "/static/app.0123456789ab.css", hdr: http.Header{"Accept-Encoding": {"gzip"}},
			status: 200, cache: cacheRevalidated, gzipped: true, body: css},
		{name: "unknown file", path: "/static/nope.css", status: 404, cache: "no-store", marker: true},
		{name: "unknown file with a hash", path: "/static/nope.0123456789ab.css", status: 404, cache: "no-store", marker: true},
		{name: "the package's source", path: "/static/static.go", status: 404, cache: "no-store", marker: true},
		{name: "encoded dot segments", path: "/static/%2e%2e/static/app.css", status: 404, cache: "no-store", marker: true},
		{name: "directory", path: "/static/", status: 404, cache: "no-store", marker: true},
		{name: "a page", path: "/page", status: 200, cache: "no-store", body: []byte("page"), marker: true},
		{name: "a page with a bearer token", path: "/page", hdr: http.Header{"Authorization": {"Bearer x"}}, status: 200, cache: "no-store", body: []byte("page"), marker: true},
		{name: "API with a bearer token", path: "/api/v1/range", hdr: http.Header{"Authorization": {"Bearer x"}}, status: 200, cache: "no-store", body: []byte("api")},
		{name: "API with a cookie", path: "/api/v1/range", hdr: http.Header{"Cookie": {"portpanel_session=x"}}, status: 200, cache: "no-store", body: []byte("api"), marker: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(cmp.Or(tt.method, http.MethodGet), tt.path, nil)
			for k, v := range tt.hdr {
				req.Header[k] = v
			}
			w := httptest.NewRecorder()
			e.ServeHTTP(w, req)
			res := w.Result()
			if res.StatusCode != tt.status {
				t.Fatalf("%s %s: %d, want %d", req.Method, tt.path, res.StatusCode, tt.status)
			}
			if got := res.Header.Get("Cache-Control"); got != tt.cache {
				t.Errorf("Cache-Control %q, want %q", got, tt.cache)
			}
			wantCSP := CSP
			if strings.HasPrefix(tt.path, "/api/") {
				wantCSP = APICSP
			}
			if got := res.Header.Get("Content-Security-Policy"); got != wantCSP {
				t.Errorf("Content-Security-Policy %q, want %q", got, wantCSP)
			}
			if got := res.Header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options %q, want nosniff", got)
			}
			if got := res.Header.Get("X-Marker") == "ran"; got != tt.marker {
				t.Errorf("middleware ran: %v, want %v", got, tt.marker)
			}
			if tt.etag != "" && res.Header.Get("ETag") != tt.etag {
				t.Errorf("ETag %q, want %q", res.Header.Get("ETag"), tt.etag)
			}
			if tt.status != 200 && tt.status != 304 {
				return
			}
			if strings.HasPrefix(tt.path, static.Prefix) && res.Header.Get("Vary") != "Accept-Encoding" {
				t.Errorf("Vary %q, want Accept-Encoding", res.Header.Get("Vary"))
			}
			if got := res.Header.Get("Content-Encoding") == "gzip"; got != tt.gzipped && tt.status == 200 {
				t.Errorf("gzip-encoded: %v, want %v", got, tt.gzipped)
			}
			raw, _ := io.ReadAll(res.Body)
			if tt.status == 304 || req.Method == http.MethodHead {
				if len(raw) != 0 {
					t.Errorf("%d bytes of body, want none", len(raw))
				}
				return
			}
			if got := decoded(t, raw, tt.gzipped); !bytes.Equal(got, tt.body) {
				t.Errorf("body of %d bytes differs from the file's %d", len(got), len(tt.body))
			}
		})
	}
}

func decoded(t *testing.T, raw []byte, gzipped bool) []byte {
	t.Helper()
	if !gzipped {
		return raw
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("gzip body: %v", err)
	}
	b, err := io.ReadAll(zr)
	if err != nil && !errors.Is(err, io.EOF) {
		t.Fatalf("gzip body: %v", err)
	}
	return b
}

func TestAcceptsGzip(t *testing.T) {
	tests := []struct {
		name   string
		header []string
		want   bool
	}{
		{"none", nil, false},
		{"gzip", []string{"gzip"}, true},
		{"among others", []string{"deflate, gzip, br"}, true},
		{"x-gzip", []string{"x-gzip"}, true},
		{"upper case", []string{"GZIP"}, true},
		{"q-value", []string{"gzip;q=0.5"}, true},
		{"spaced q-value", []string{"gzip ; q=0.5"}, true},
		{"refused", []string{"gzip;q=0"}, false},
		{"refused, any other accepted", []string{"gzip;q=0, *"}, false},
		{"any", []string{"*"}, true},
		{"any refused", []string{"*;q=0"}, false},
		{"identity only", []string{"identity"}, false},
		{"bad q-value", []string{"gzip;q=x"}, false},
		{"second header line", []string{"br", "gzip"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := acceptsGzip(tt.header); got != tt.want {
				t.Errorf("acceptsGzip(%q) = %v, want %v", tt.header, got, tt.want)
			}
		})
	}
}
