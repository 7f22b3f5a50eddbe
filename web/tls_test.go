package web_test

import (
	"testing"

	"portpanel/web"
)

// Over HTTPS served here every response says to keep using HTTPS; over
// plain HTTP none does (TestSecurityHeadersOnEveryKindOfResponse).
func TestHSTSOverTLS(t *testing.T) {
	e, _ := newEnvWith(t, envOpts{tls: true, sessions: web.SessionConfig{Secure: true}})
	c := e.browser(t)
	for _, tt := range []struct {
		path   string
		status int
	}{
		{"/healthz", 200},
		{"/login", 200},
		{"/", 303},
		{"/api/v1/range", 401},
		{"/no/such/page", 404},
		{"/static/app.css", 200},
	} {
		res := c.get(tt.path)
		if res.StatusCode != tt.status || res.TLS == nil {
			t.Fatalf("GET %s: %d (TLS %v), want %d over TLS", tt.path, res.StatusCode, res.TLS != nil, tt.status)
		}
		if got := res.Header.Get("Strict-Transport-Security"); got != "max-age=31536000" {
			t.Errorf("GET %s over TLS: Strict-Transport-Security %q, want max-age=31536000", tt.path, got)
		}
	}
}
