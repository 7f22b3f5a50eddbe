package agent_test

import (
	"context"
	"encoding/pem"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"portpanel/agent"
	"portpanel/agent/agenttest"
	"portpanel/sysctl/sysctltest"
)

func TestServerURLs(t *testing.T) {
	for _, c := range []struct {
		url string
		ok  bool
	}{
		{"https://panel.example:8443", true},
		{"https://panel.example", true},
		{"unix:///run/portpanel/agent.sock", true},
		{"http://panel.example:8080", false}, // the token would cross in clear text
		{"https://panel.example/agent", false},
		{"unix://host/path.sock", false},
		{"unix:", false},
		{"panel.example:8443", false},
	} {
		_, err := agent.NewClient([]string{c.url}, "")
		if (err == nil) != c.ok {
			t.Errorf("%s: err %v, want ok %v", c.url, err, c.ok)
		}
	}
}

// An https control plane is trusted through --ca-file, and not without it.
// The agent is observe-only on a stand-in /proc/sys: it only reads.
func TestHTTPSWithCAFile(t *testing.T) {
	f := newFakeCP(t)
	srv := httptest.NewUnstartedServer(f.mux)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(caFile string) (*agenttest.SyncBuffer, func()) {
		log := &agenttest.SyncBuffer{}
		cfg := agent.Config{Servers: []string{srv.URL}, CAFile: caFile, EnrollToken: f.Token(), StateDir: filepath.Join(t.TempDir(), "state"),
			Name: "tls-1", ObserveOnly: true, ProcSys: sysctltest.FakeProcSys(t), ProcNet: t.TempDir(), SysctlFile: filepath.Join(t.TempDir(), "99.conf"),
			ConfigRoot: t.TempDir(), BootReader: "procps", BackoffMin: 50 * time.Millisecond, BackoffMax: 100 * time.Millisecond,
			Log: slog.New(slog.NewTextHandler(log, nil))}
		ctx, cancel := context.WithCancel(context.Background())
		a, err := agent.New(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { a.Run(ctx); close(done) }()
		return log, func() { cancel(); <-done; a.Close() }
	}

	log, stop := run("")
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(log.String(), "certificate") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	if _, ok := f.LastReport(""); ok || !strings.Contains(log.String(), "certificate") {
		t.Fatalf("without --ca-file: want the certificate refused and no report; log:\n%s", log)
	}

	log, stop = run(ca)
	defer stop()
	deadline = time.Now().Add(5 * time.Second)
	for {
		if rep, ok := f.LastReport(""); ok {
			if !rep.ObserveOnly || rep.Observed.Runtime.Low != 32768 {
				t.Errorf("report %+v", rep)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no report over https with --ca-file; log:\n%s", log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
