// Package agenttest holds the agent's behaviours as tests that run against
// any control plane: the agent package runs them against a small fake, and
// the root package against the real fleet handlers, so what the agent
// promises is checked against what the server really does. Every test
// runs in a private network namespace (sysctltest.InNetns) and writes only
// its real /proc/sys; config trees and state dirs are temp dirs.
package agenttest

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"portpanel/agent"
	"portpanel/agentapi"
	"portpanel/db"
	"portpanel/sysctl"
	"portpanel/sysctl/sysctltest"
)

// defaultRange is what a fresh network namespace has.
var defaultRange = sysctl.Range{Low: 32768, High: 60999}

const baseConf = "# managed by the agent test\nnet.ipv4.tcp_syncookies = 1\n"

// Host is one managed host: a state dir, a config tree, the namespace's
// real /proc/sys, and an agent that can be started and stopped.
type Host struct {
	t      *testing.T
	cfg    agent.Config
	file   string
	log    *SyncBuffer
	cancel context.CancelFunc
	done   chan error
	a      *agent.Agent
}

func newHost(t *testing.T, server string) *Host {
	t.Helper()
	root := t.TempDir()
	file := filepath.Join(root, "etc", "sysctl.d", "90-portpanel.conf")
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(baseConf), 0o644); err != nil {
		t.Fatal(err)
	}
	h := &Host{t: t, file: file, log: &SyncBuffer{}}
	h.cfg = agent.Config{Servers: []string{server}, StateDir: filepath.Join(t.TempDir(), "state"), Name: "web-1",
		ProcSys: sysctltest.ProcSys(), ProcNet: "/proc/net", SysctlFile: file, ConfigRoot: root, BootReader: "procps",
		BackoffMin: 100 * time.Millisecond, BackoffMax: 400 * time.Millisecond}
	h.cfg.Log = slog.New(slog.NewTextHandler(h.log, nil))
	t.Cleanup(func() {
		h.stop()
		if t.Failed() {
			t.Logf("agent log:\n%s", h.log)
		}
	})
	return h
}

// enrolledHost is a host whose agent runs and has reported once.
func enrolledHost(t *testing.T, cp ControlPlane) *Host {
	t.Helper()
	h := newHost(t, cp.URL())
	h.start(cp.Token())
	reportAfter(t, cp, h.cfg.Name, time.Time{})
	return h
}

// start runs the agent with token (may be "") until stop.
func (h *Host) start(token string) {
	h.t.Helper()
	if err := h.tryStart(token); err != nil {
		h.t.Fatal(err)
	}
}

func (h *Host) tryStart(token string) error {
	cfg := h.cfg
	cfg.EnrollToken = token
	ctx, cancel := context.WithCancel(context.Background())
	a, err := agent.New(ctx, cfg)
	if err != nil {
		cancel()
		return err
	}
	h.a, h.cancel, h.done = a, cancel, make(chan error, 1)
	go func() { h.done <- a.Run(ctx) }()
	return nil
}

// stop stops the agent as SIGTERM would, and returns Run's error.
func (h *Host) stop() {
	if h.cancel == nil {
		return
	}
	h.cancel()
	if err := <-h.done; err != nil {
		h.t.Errorf("agent: %v", err)
	}
	h.a.Close()
	h.cancel = nil
}

// running reports whether Run is still going.
func (h *Host) running() bool {
	select {
	case err := <-h.done:
		h.done <- err
		return false
	default:
		return true
	}
}

func (h *Host) kernel() sysctl.Range {
	h.t.Helper()
	r, err := sysctl.Kernel{ProcSys: sysctltest.ProcSys()}.ReadRange()
	if err != nil {
		h.t.Fatal(err)
	}
	return r
}

func (h *Host) fileText() string {
	h.t.Helper()
	b, err := os.ReadFile(h.file)
	if err != nil {
		h.t.Fatal(err)
	}
	return string(b)
}

// journal lists the agent's local changes, newest first.
func (h *Host) journal() []db.Change {
	h.t.Helper()
	d, err := db.Open(context.Background(), filepath.Join(h.cfg.StateDir, "journal.db"))
	if err != nil {
		h.t.Fatal(err)
	}
	defer d.Close()
	list, err := d.Changes(context.Background(), 100, 0)
	if err != nil {
		h.t.Fatal(err)
	}
	return list
}

func rangeLine(r string) string { return "net.ipv4.ip_local_port_range = " + r + "\n" }

func setRange(r, reason string) *agentapi.DesiredChange {
	return &agentapi.DesiredChange{Operation: agentapi.OpSet, Keys: map[string]string{agentapi.KeyRange: r}, Reason: reason, Author: "alice"}
}

// eventually waits up to d for ok.
func eventually(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	end := time.Now().Add(d)
	for !ok() {
		if time.Now().After(end) {
			t.Fatalf("after %s: %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// resultOf waits for the control plane to hold a result of gen in state.
func resultOf(t *testing.T, cp ControlPlane, host string, gen int64, state string, d time.Duration) agentapi.Result {
	t.Helper()
	var got agentapi.Result
	eventually(t, d, "generation "+state, func() bool {
		var ok bool
		got, ok = cp.Result(host, gen)
		return ok && got.State == state
	})
	return got
}

// SyncBuffer is a log written by the agent's goroutines and read by the
// test.
type SyncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func isNotExist(err error) bool { return errors.Is(err, os.ErrNotExist) }
