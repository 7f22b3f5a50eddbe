package web_test

import (
	"bytes"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"portpanel/db"
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

	c := e.login(t, db.RoleViewer)
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
