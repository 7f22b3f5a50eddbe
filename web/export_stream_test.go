package web_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"portpanel/auth"
	"portpanel/db"
	"portpanel/sysctl/sysctltest"
)

// TestExportStreamsLargeLogs checks that a long export arrives whole and in
// order, and that one cut short by a failure cannot pass for complete.
func TestExportStreamsLargeLogs(t *testing.T) {
	const n = 5000
	pad := strings.Repeat("x", 3000) // 15 MB in all: far more than the sockets buffer
	e := newEnv(t, sysctltest.ProcSys())
	events := make([]db.AuditEvent, n)
	for i := range events {
		events[i] = db.AuditEvent{At: march1.Add(time.Duration(i) * time.Second), User: "bulk",
			Action: "test", Detail: fmt.Sprintf("event %d %s", i, pad)}
	}
	seedMany(t, e, events)
	v := e.login(t, auth.RoleViewer)

	t.Run("csv", func(t *testing.T) {
		res := v.get("/audit/export?format=csv&user=bulk")
		if res.ContentLength != -1 {
			t.Errorf("Content-Length %d: want the export streamed, not sized in advance", res.ContentLength)
		}
		rows := readCSV(t, res, auditHeader)
		if len(rows) != n {
			t.Fatalf("%d rows, want %d", len(rows), n)
		}
		for i, row := range rows {
			if row[0] != strconv.Itoa(i+1) || !strings.HasPrefix(row[4], fmt.Sprintf("event %d x", i)) {
				t.Fatalf("row %d = %.40q…, want event %d", i, row, i)
			}
		}
	})
	t.Run("json", func(t *testing.T) {
		events := decode[[]struct {
			ID int64 `json:"id"`
		}](t, v.get("/audit/export?format=json&user=bulk"))
		if len(events) != n || events[0].ID != 1 || events[n-1].ID != n {
			t.Errorf("%d events from %v, want %d from 1 to %d", len(events), events[:min(len(events), 1)], n, n)
		}
	})
	t.Run("a failure midway breaks the transfer off", func(t *testing.T) {
		// A small receive buffer keeps the server from writing far ahead,
		// so most rows are still unread when the database goes away.
		if wmem := sendBufferMax(t); n*len(pad) < 3*wmem {
			t.Skipf("tcp_wmem lets the server buffer %d bytes: the export could be sent before the failure", wmem)
		}
		jar, _ := cookiejar.New(nil)
		small := &http.Client{Jar: jar, Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err == nil {
				err = conn.(*net.TCPConn).SetReadBuffer(256 << 10)
			}
			return conn, err
		}}}
		small.Jar.SetCookies(mustURL(t, e.srv.URL), v.http.Jar.Cookies(mustURL(t, e.srv.URL)))
		res, err := small.Get(e.srv.URL + "/audit/export?format=csv&user=bulk")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		first := make([]byte, 100)
		if _, err := io.ReadFull(res.Body, first); err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("start of export: %d, %v", res.StatusCode, err)
		}
		if err := e.h.DB.Close(); err != nil {
			t.Fatal(err)
		}
		_, err = io.Copy(io.Discard, res.Body)
		if err == nil {
			t.Error("the export ended cleanly although the database closed midway: a truncated CSV would pass for whole")
		}
	})
}

// sendBufferMax is the most a TCP socket may buffer for sending here: how
// far the server can write ahead of a client that stops reading.
func sendBufferMax(t *testing.T) int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/tcp_wmem")
	if err != nil {
		t.Skipf("cannot read the TCP buffer limits: %v", err)
	}
	f := strings.Fields(string(b))
	n, err := strconv.Atoi(f[len(f)-1])
	if err != nil {
		t.Fatalf("tcp_wmem %q: %v", b, err)
	}
	return n
}
