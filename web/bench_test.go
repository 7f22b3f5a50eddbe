package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"portpanel/db"
)

// In-process cost of the two requests bench/run.sh loads for its
// throughput targets (issue 6), the whole middleware stack included but no
// network: go test -run XXX -bench Request -benchmem ./web/
// They read the host's /proc/sys (only read) and a temp config tree.

func benchRequest(b *testing.B, path string, credentials func(*env, *http.Request)) {
	b.Helper()
	e := newEnv(b, "/proc/sys")
	req := httptest.NewRequest(http.MethodGet, path, nil)
	credentials(e, req)
	h := e.srv.Config.Handler
	b.ReportAllocs()
	size := 0
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("GET %s: %d\n%s", path, w.Code, w.Body)
		}
		size = w.Body.Len()
	}
	b.SetBytes(int64(size))
}

// signedIn is the cookies of a viewer's fresh session.
func signedIn(b *testing.B, e *env) []*http.Cookie {
	c := e.login(b, "viewer")
	u, err := url.Parse(e.srv.URL)
	if err != nil {
		b.Fatal(err)
	}
	return c.http.Jar.Cookies(u)
}

func BenchmarkRequestDashboard(b *testing.B) {
	benchRequest(b, "/", func(e *env, req *http.Request) {
		for _, ck := range signedIn(b, e) {
			req.AddCookie(ck)
		}
	})
}

func BenchmarkRequestAPIRange(b *testing.B) {
	benchRequest(b, "/api/v1/range", func(e *env, req *http.Request) {
		req.Header = e.bearer(b, "script", "viewer")
	})
}

// The same, from as many goroutines as GOMAXPROCS allows, for lock
// contention and garbage collection under load.
func BenchmarkRequestParallelAPIRange(b *testing.B) {
	e := newEnv(b, "/proc/sys")
	hdr := e.bearer(b, "script", "viewer")
	h := e.srv.Config.Handler
	b.ReportAllocs()
	b.SetParallelism(32)
	b.RunParallel(func(pb *testing.PB) {
		req := httptest.NewRequest(http.MethodGet, "/api/v1/range", nil)
		req.Header = hdr.Clone()
		for pb.Next() {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				b.Errorf("GET /api/v1/range: %d", w.Code)
				return
			}
		}
	})
}

// seededEnv serves the database bench/run.sh loads (bench/cmd/seed: the
// newest 1,000 changes, audit events and range samples an hour apart, 7
// days of raw usage every 30 s, a year of hourly usage).
func seededEnv(b *testing.B) *env {
	b.Helper()
	path := filepath.Join(b.TempDir(), "seed.db")
	seed := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "run", "../bench/cmd/seed",
		"-db", path, "-rows", "1000", "-samples", "1000")
	if out, err := seed.CombinedOutput(); err != nil {
		b.Fatalf("seed: %v\n%s", err, out)
	}
	d, err := db.Open(context.Background(), path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { d.Close() })
	return newEnvDB(b, "/proc/sys", d)
}

// benchPaths loads each path in turn, one sub-benchmark each.
func benchPaths(b *testing.B, e *env, hdr http.Header, paths ...string) {
	b.Helper()
	for _, path := range paths {
		name := strings.TrimPrefix(path, "/")
		if name == "" {
			name = "dashboard"
		}
		b.Run(name, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, path, nil)
			req.Header = hdr
			h := e.srv.Config.Handler
			b.ReportAllocs()
			size := 0
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("GET %s: %d\n%s", req.URL, w.Code, w.Body)
				}
				size = w.Body.Len()
			}
			b.SetBytes(int64(size))
		})
	}
}

// cookieHeader is the header a signed-in client c sends.
func cookieHeader(b *testing.B, e *env, c *client) http.Header {
	u, err := url.Parse(e.srv.URL)
	if err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	for _, ck := range c.http.Jar.Cookies(u) {
		req.AddCookie(ck)
	}
	return req.Header
}

// BenchmarkRequestHistory is /history (7 days, as bench/run.sh's mix
// loads it) and /history?window=30d on the seeded database: the queries
// and the render together, or what is kept of them.
func BenchmarkRequestHistory(b *testing.B) {
	e := seededEnv(b)
	benchPaths(b, e, cookieHeader(b, e, e.login(b, "viewer")), "/history?window=7d", "/history?window=30d")
}

// BenchmarkRequestMix is each route of bench/run.sh's 200-client mix on
// the seeded database, one at a time, signed in as an admin (pages) or
// with a token (API and metrics): the sum of their times is the CPU a
// cycle of the mix costs the server, but for the network.
func BenchmarkRequestMix(b *testing.B) {
	e := seededEnv(b)
	benchPaths(b, e, cookieHeader(b, e, e.login(b, "admin")), "/", "/changes", "/history", "/audit")
	benchPaths(b, e, e.bearer(b, "script", "viewer"), "/api/v1/range", "/api/v1/changes", "/api/v1/usage", "/api/v1/history", "/metrics")
}

// The dashboard from many goroutines at once, signed in: what the
// 64-connection load of bench/run.sh asks of the server, without the
// network.
func BenchmarkRequestParallelDashboard(b *testing.B) {
	e := newEnv(b, "/proc/sys")
	cookies := signedIn(b, e)
	h := e.srv.Config.Handler
	b.ReportAllocs()
	b.SetParallelism(32)
	b.RunParallel(func(pb *testing.PB) {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		for _, ck := range cookies {
			req.AddCookie(ck)
		}
		for pb.Next() {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				b.Errorf("GET /: %d", w.Code)
				return
			}
		}
	})
}
