package cli

import (
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"portpanel/internal/syslogtest"
)

// apiChange asks serve on port to change the range with token and
// returns the status and how long the answer took.
func apiChange(t *testing.T, port, token string) (int, time.Duration) {
	t.Helper()
	// The scan sees this host's own sockets, which may make the change
	// hazardous: acknowledged, as the test is about syslog.
	req, err := http.NewRequest(http.MethodPost, "http://127.0.0.1:"+port+"/api/v1/changes",
		strings.NewReader(`{"low":40000,"high":50001,"reason":"more ports","acknowledge":["small-range","below-busiest","listener-in-range","connections-outside"]}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	start := time.Now()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode, time.Since(start)
}

// createToken makes an operator token for alice with the token command, a
// process of its own beside serve.
func createToken(t *testing.T, path string) string {
	t.Helper()
	stdout, stderr, code := tokenCLI(t, path, "create", "--user", "alice")
	if code != 0 {
		t.Fatalf("token create: exit %d: %s", code, stderr)
	}
	return strings.TrimSpace(stdout)
}

// TestServeSendsAuditEventsToSyslog: from the start event to the stop
// event, with what the token command appends from another process and a
// change made through the API in between.
func TestServeSendsAuditEventsToSyslog(t *testing.T) {
	col := syslogtest.Listen(t, "tcp")
	path := tokenDB(t)
	// Cleanups run last first: this one after serve has stopped.
	t.Cleanup(func() {
		if m := col.Next(t); !strings.Contains(m, ` server.stop [portpanel@32473 `) {
			t.Errorf("after stop: %q, want the stop event", m)
		}
	})
	port, _, _ := startServe(t, "--db", path, "--syslog", "tcp://"+col.Addr)

	if m := col.Next(t); !strings.Contains(m, ` portpanel `+strconv.Itoa(os.Getpid())+` server.start [portpanel@32473 `) {
		t.Errorf("first message %q, want the start event", m)
	}
	token := createToken(t, path)
	if m := col.Next(t); !strings.Contains(m, `event="token.created" actor="cli"`) {
		t.Errorf("got %q, want the token command's event", m)
	}
	if status, _ := apiChange(t, port, token); status != http.StatusCreated {
		t.Fatalf("POST /api/v1/changes: %d", status)
	}
	for _, event := range []string{"change.applying", "change.applied"} {
		if m := col.Next(t); !strings.Contains(m, `event="`+event+`" actor="alice" result="success" change_id="1" before="32768 60999" after="40000 50001"`) {
			t.Errorf("got %q, want %s", m, event)
		}
	}
}

// TestServeWithADeadCollector: a change neither waits nor fails, and the
// events that do not fit the queue are counted in /metrics and logged.
func TestServeWithADeadCollector(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	path := tokenDB(t)
	var stderr *servedLog
	t.Cleanup(func() {
		if log := stderr.String(); !strings.Contains(log, "audit events were dropped, not sent to syslog") || !strings.Contains(log, "connection refused") {
			t.Errorf("the drops are not logged at stop:\n%s", log)
		}
	})
	port, _, stderr := startServe(t, "--db", path, "--syslog", "tcp://"+closed+"?queue=1")
	token := createToken(t, path)

	status, took := apiChange(t, port, token)
	if status != http.StatusCreated || took > 3*time.Second {
		t.Errorf("POST /api/v1/changes: %d after %s, want 201 at once", status, took)
	}
	// server.start, token.created, change.applying, change.applied: one
	// is held by the sender, one queued, the others dropped.
	deadline := time.Now().Add(10 * time.Second)
	for {
		dropped := scrapeSyslogDropped(t, port, token)
		if dropped >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("portpanel_syslog_dropped_total = %v after 10s, want at least 2", dropped)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// scrapeSyslogDropped reads portpanel_syslog_dropped_total from /metrics
// (-1 when it is missing).
func scrapeSyslogDropped(t *testing.T, port, token string) float64 {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1:"+port+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body strings.Builder
	if _, err := io.Copy(&body, res.Body); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(body.String(), "\n") {
		if v, ok := strings.CutPrefix(line, "portpanel_syslog_dropped_total "); ok {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	return -1
}
