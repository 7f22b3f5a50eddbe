package web_test

import (
	"bytes"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"portpanel/auth"
	"portpanel/sysctl/sysctltest"
	"portpanel/web"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// The request log must record the status sent, also when a handler returns
// a plain error that only the error handler turns into a status.
func TestRequestLogRecordsTheStatusSent(t *testing.T) {
	e := newEnv(t, sysctltest.ProcSys())
	var logged syncBuffer
	h := e.handlersCopy()
	h.Log = slog.New(slog.NewTextHandler(&logged, nil))
	srv := httptest.NewServer(web.New(h))
	t.Cleanup(srv.Close)
	e.srv = srv

	c := e.login(t, auth.RoleViewer)
	if res := c.get("/changes/424242"); res.StatusCode != 404 {
		t.Fatalf("missing change: status %d, want 404", res.StatusCode)
	}
	for _, line := range strings.Split(logged.String(), "\n") {
		if strings.Contains(line, "path=/changes/424242") {
			if !strings.Contains(line, "status=404") {
				t.Errorf("request log says %q, want status=404", line)
			}
			return
		}
	}
	t.Errorf("no request log line for /changes/424242 in:\n%s", logged.String())
}

// Neither log format ever holds a secret: not the password posted to sign
// in, the session cookie, a bearer token, nor a setup token in the query.
func TestRequestLogKeepsSecretsOut(t *testing.T) {
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			e := newEnv(t, sysctltest.ProcSys())
			var logged syncBuffer
			h := e.handlersCopy()
			h.Log = slog.New(slog.NewTextHandler(&logged, nil))
			if format == "json" {
				h.Log = slog.New(slog.NewJSONHandler(&logged, nil))
			}
			srv := httptest.NewServer(web.New(h))
			t.Cleanup(srv.Close)
			e.srv = srv

			c := e.login(t, auth.RoleViewer)
			c.get("/")
			const setupSecret = "setup-secret-in-the-query"
			c.get("/setup?token=" + setupSecret)
			bearer := e.bearer(t, "api", auth.RoleViewer)
			c.do("GET", "/api/v1/range", bearer, nil)

			u, _ := url.Parse(srv.URL)
			secrets := []string{testPassword, setupSecret, strings.TrimPrefix(bearer.Get("Authorization"), "Bearer ")}
			for _, ck := range c.http.Jar.Cookies(u) {
				secrets = append(secrets, ck.Value)
			}
			log := logged.String()
			if !strings.Contains(log, "/api/v1/range") || !strings.Contains(log, "/setup") {
				t.Fatalf("the requests were not logged:\n%s", log)
			}
			for _, s := range secrets {
				if s != "" && strings.Contains(log, s) {
					t.Errorf("the log holds the secret %q:\n%s", s, log)
				}
			}
		})
	}
}
