package handlers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"portpanel/agentapi"
	"portpanel/db"
	"portpanel/db/dbtest"
	"portpanel/fleet"
	"portpanel/handlers"
)

// The agent API's two hot paths, through echo (routing, body cap, JSON),
// without a socket: what one control plane spends per poll and per
// report. fleet/bench_test.go measures the layer below. Run with
//
//	go test -run '^$' -bench Agent -benchtime 2000x ./handlers/
//
// (PORTPANEL_TEST_PG set for the postgres half).
func BenchmarkAgentAPI(b *testing.B) {
	for _, store := range []struct {
		name string
		open func(testing.TB) *db.DB
	}{{"sqlite", dbtest.Open}, {"postgres", dbtest.OpenPostgres}} {
		b.Run(store.name, func(b *testing.B) {
			d := store.open(b)
			f := &fleet.Service{DB: d, PollFloor: 1, Reports: fleet.ReportLimit{Every: time.Millisecond, Burst: 1000}}
			h := (&handlers.AgentAPI{Fleet: f, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}).Echo()
			hosts := benchAgents(b, f, 500)
			report := benchReportBody()
			for _, op := range []struct {
				name, method, target string
				body                 []byte
				want                 int
			}{
				{"poll", "GET", agentapi.PathDesired + "?after=0&wait=0", nil, http.StatusOK},
				{"report", "POST", agentapi.PathReport, report, http.StatusNoContent},
			} {
				b.Run(op.name, func(b *testing.B) {
					b.ReportAllocs()
					start := cpuTime()
					for i := 0; i < b.N; i++ {
						a := hosts[i%len(hosts)]
						req := httptest.NewRequest(op.method, op.target, bytes.NewReader(op.body))
						if err := agentapi.Sign(req, op.body, a.name, a.key, time.Now()); err != nil {
							b.Fatal(err)
						}
						rec := httptest.NewRecorder()
						h.ServeHTTP(rec, req)
						if rec.Code != op.want {
							b.Fatalf("%s: %d %s", op.name, rec.Code, rec.Body)
						}
					}
					b.StopTimer()
					b.ReportMetric(float64((cpuTime()-start).Microseconds())/float64(b.N), "cpu-µs/op")
				})
			}
		})
	}
}

func benchAgents(b *testing.B, f *fleet.Service, n int) []testAgent {
	b.Helper()
	ctx := context.Background()
	hosts := make([]testAgent, n)
	for i := range hosts {
		tok, _, err := f.CreateEnrollment(ctx, "alice", "web", 0)
		if err != nil {
			b.Fatal(err)
		}
		pub, key, _ := agentapi.GenerateKey()
		hosts[i] = testAgent{name: fmt.Sprintf("web%04d", i), key: key}
		if _, err := f.Enroll(ctx, agentapi.EnrollRequest{Token: tok, Name: hosts[i].name,
			PublicKey: agentapi.EncodePublicKey(pub)}, "bench"); err != nil {
			b.Fatal(err)
		}
	}
	return hosts
}

// benchReportBody is a report of a real agent's size (~2 KB).
func benchReportBody() []byte {
	o := agentapi.Observed{Runtime: agentapi.Range{Low: 32768, High: 60999},
		Boot:          agentapi.Boot{Range: agentapi.Range{Low: 32768, High: 60999}, Set: true, File: "/etc/sysctl.d/90-ports.conf", Line: 3, Reader: "systemd-sysctl"},
		ReservedPorts: "8080,9090", UnprivilegedPortStart: 1024, File: "/etc/sysctl.d/90-ports.conf",
		Usage: &agentapi.Usage{At: time.Now(), Total: 1200, ByState: map[string]int{"ESTABLISHED": 900, "TIME_WAIT": 300}, Risk: "ok"}}
	for i := range 12 {
		o.Listeners = append(o.Listeners, agentapi.Listener{Port: 40000 + i, Process: fmt.Sprintf("worker-%d", i)})
	}
	b, _ := json.Marshal(agentapi.Report{Version: "1.0.0", PollSeconds: 30, Observed: o})
	return b
}

// cpuTime is this process's CPU time so far, user and system: the
// control plane's share, without the database server's.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
