package main

// The agent's behaviours (agent/agenttest) against the real control plane:
// fleet's logic and the /agent/v1 handlers, on a real database, served
// over a Unix socket as `serve --agent-listen unix:...` serves them. Each
// agent runs in a private network namespace and writes its real
// /proc/sys.

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"portpanel/agent/agenttest"
	"portpanel/agentapi"
	"portpanel/db/dbtest"
	"portpanel/fleet"
	"portpanel/handlers"
)

func TestAgentAgainstTheControlPlane(t *testing.T) { agenttest.Run(t, newRealCP) }

func TestAgentKill9AgainstTheControlPlane(t *testing.T) {
	agenttest.Kill9(t, newRealCP, agenttest.FaultBinary(t))
}

type realCP struct {
	t        *testing.T
	sock     string
	fleet    *fleet.Service
	hub      *fleet.LocalHub
	handler  http.Handler
	srv      *http.Server
	replicas []*http.Server
	freezer  agenttest.Freezer
	refusals atomic.Int64
}

func newRealCP(t *testing.T) agenttest.ControlPlane {
	hub := fleet.NewLocalHub()
	// Reports as often as the agent's one-second poll asks, and a little
	// more: the limit itself is fleet's to test.
	f := &fleet.Service{DB: dbtest.Open(t), Hub: hub, PollSeconds: 1, Reports: fleet.ReportLimit{Every: 50 * time.Millisecond, Burst: 20}}
	cp := &realCP{t: t, sock: filepath.Join(t.TempDir(), "agent.sock"), fleet: f, hub: hub}
	api := (&handlers.AgentAPI{Fleet: f, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}).Echo()
	cp.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w}
		api.ServeHTTP(rec, r)
		if rec.code == http.StatusUnauthorized {
			cp.refusals.Add(1)
		}
	})
	cp.srv = cp.serve(cp.sock)
	t.Cleanup(func() {
		cp.freezer.Thaw()
		cp.Stop()
		for _, r := range cp.replicas {
			r.Close()
		}
	})
	return cp
}

func (cp *realCP) serve(sock string) *http.Server {
	ln, err := net.Listen("unix", sock)
	if err != nil {
		cp.t.Fatal(err)
	}
	srv := &http.Server{Handler: cp.freezer.Wrap(cp.handler)}
	go srv.Serve(ln)
	return srv
}

func (cp *realCP) Replica() string {
	sock := filepath.Join(cp.t.TempDir(), "agent.sock")
	cp.replicas = append(cp.replicas, cp.serve(sock))
	return "unix://" + sock
}

type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.code = code
	r.ResponseWriter.WriteHeader(code)
}

func (cp *realCP) URL() string { return "unix://" + cp.sock }

func (cp *realCP) Token() string {
	tok, _, err := cp.fleet.CreateEnrollment(context.Background(), "alice", "web", 0)
	if err != nil {
		cp.t.Fatal(err)
	}
	return tok
}

func (cp *realCP) Set(host string, dc *agentapi.DesiredChange) int64 {
	ctx := context.Background()
	h, err := cp.fleet.SetDesired(ctx, host, dc, nil)
	if errors.Is(err, fleet.ErrInvalid) {
		// What fleet refuses to send, the agent must refuse too: written
		// past fleet's check, straight into the host's row, and its poll
		// woken as SetDesired would ("host:" is fleet's key of a host).
		b, merr := json.Marshal(dc)
		if merr != nil {
			cp.t.Fatal(merr)
		}
		h, err = cp.fleet.DB.SetDesired(ctx, host, b, time.Now(), nil)
		cp.hub.Wake("host:" + host)
	}
	if err != nil {
		cp.t.Fatalf("set desired state of %s: %v", host, err)
	}
	return h.Generation
}

func (cp *realCP) Confirm(host string, gen int64) {
	if _, err := cp.fleet.Confirm(context.Background(), host, gen); err != nil {
		cp.t.Fatalf("confirm generation %d of %s: %v", gen, host, err)
	}
}

func (cp *realCP) Preview(host string, keys map[string]string) agentapi.PreviewResult {
	res, err := cp.fleet.RequestPreview(context.Background(), host, keys)
	if err != nil {
		cp.t.Fatalf("preview on %s: %v", host, err)
	}
	return res
}

func (cp *realCP) Revoke(host string) {
	if _, err := cp.fleet.RevokeHost(context.Background(), "alice", host); err != nil {
		cp.t.Fatalf("revoke %s: %v", host, err)
	}
}

func (cp *realCP) Result(host string, gen int64) (agentapi.Result, bool) {
	h, err := cp.fleet.DB.HostByName(context.Background(), host)
	if err != nil || h.Applied.Generation != gen {
		return agentapi.Result{}, false
	}
	r := agentapi.Result{Generation: gen, State: h.Applied.State, Error: h.Applied.Error}
	if h.Applied.Deadline != nil {
		r.Deadline = *h.Applied.Deadline
	}
	return r, true
}

func (cp *realCP) LastReport(host string) (agentapi.Report, bool) {
	h, err := cp.fleet.DB.HostByName(context.Background(), host)
	if err != nil || h.Report == nil || h.ReportedAt == nil {
		return agentapi.Report{}, false
	}
	rep := agentapi.Report{At: *h.ReportedAt, Version: h.AgentVersion, PollSeconds: h.PollSeconds, ObserveOnly: h.ObserveOnly}
	if err := json.Unmarshal(h.Report, &rep.Observed); err != nil {
		cp.t.Fatalf("decode the report of %s: %v", host, err)
	}
	return rep, true
}

func (cp *realCP) Refusals() int { return int(cp.refusals.Load()) }

func (cp *realCP) Stop() { cp.srv.Close() }

func (cp *realCP) Freeze() { cp.freezer.Freeze() }
