package fleet_test

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"portpanel/agentapi"
	"portpanel/db"
	"portpanel/db/dbtest"
	"portpanel/fleet"
)

// The control plane's two hot paths at fleet size (issue 19: 10,000
// hosts polling every 30 s is ~333 polls and ~333 reports a second): a
// long poll with nothing new (authenticate, read, answer) and a report
// (authenticate, record). Each op signs a fresh request, as an agent
// does; signing is ~1/3 of verifying, so the numbers overstate the
// server's share a little. Run with
//
//	go test -run '^$' -bench . -benchtime 3000x ./fleet/
//
// (PORTPANEL_TEST_PG set for the postgres half).

const benchHosts = 500

type benchHost struct {
	name string
	key  ed25519.PrivateKey
}

func benchService(b *testing.B, d *db.DB) (*fleet.Service, []benchHost) {
	b.Helper()
	s := &fleet.Service{DB: d, Reports: fleet.ReportLimit{Every: time.Millisecond, Burst: 1000}}
	benchSettings(s)
	ctx := context.Background()
	hosts := make([]benchHost, benchHosts)
	for i := range hosts {
		token, _, err := s.CreateEnrollment(ctx, "alice", "web", 0)
		if err != nil {
			b.Fatal(err)
		}
		pub, key, _ := agentapi.GenerateKey()
		hosts[i] = benchHost{name: fmt.Sprintf("web%04d", i), key: key}
		h, err := s.Enroll(ctx, agentapi.EnrollRequest{Token: token, Name: hosts[i].name,
			PublicKey: agentapi.EncodePublicKey(pub)}, "bench")
		if err != nil {
			b.Fatal(err)
		}
		// A stored report, as every live host has, which a poll must not
		// need to read.
		if _, err := s.RecordReport(ctx, fleet.Agent{Host: db.HostKey{ID: h.ID, Name: h.Name}}, benchReport()); err != nil {
			b.Fatal(err)
		}
	}
	return s, hosts
}

func eachStore(b *testing.B, fn func(b *testing.B, d *db.DB)) {
	b.Run("sqlite", func(b *testing.B) { fn(b, dbtest.Open(b)) })
	b.Run("postgres", func(b *testing.B) { fn(b, dbtest.OpenPostgres(b)) })
}

func BenchmarkPollNothingNew(b *testing.B) {
	eachStore(b, func(b *testing.B, d *db.DB) {
		s, hosts := benchService(b, d)
		ctx := context.Background()
		b.ReportAllocs()
		defer cpuPerOp(b)()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			h := hosts[i%len(hosts)]
			req := httptest.NewRequest("GET", agentapi.PathDesired+"?after=0&wait=0", nil)
			if err := agentapi.Sign(req, nil, h.name, h.key, time.Now()); err != nil {
				b.Fatal(err)
			}
			a, err := s.Authenticate(ctx, req, nil)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := s.Desired(ctx, a, 0, 0); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkReport(b *testing.B) {
	eachStore(b, func(b *testing.B, d *db.DB) {
		s, hosts := benchService(b, d)
		ctx := context.Background()
		body := []byte(`{}`)
		rep := benchReport()
		b.ReportAllocs()
		defer cpuPerOp(b)()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			h := hosts[i%len(hosts)]
			req := httptest.NewRequest("POST", agentapi.PathReport, nil)
			if err := agentapi.Sign(req, body, h.name, h.key, time.Now()); err != nil {
				b.Fatal(err)
			}
			a, err := s.Authenticate(ctx, req, body)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := s.RecordReport(ctx, a, rep); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// cpuPerOp reports this process's CPU time (user and system) per op: the
// control plane's share, without the database server's.
func cpuPerOp(b *testing.B) func() {
	cpu := func() time.Duration {
		var ru syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	start := cpu()
	return func() {
		b.StopTimer()
		b.ReportMetric(float64((cpu()-start).Microseconds())/float64(b.N), "cpu-µs/op")
	}
}

// benchReport is a report the size a real agent sends (~2 KB of JSON:
// usage and a dozen listeners).
func benchReport() agentapi.Report {
	o := agentapi.Observed{Runtime: agentapi.Range{Low: 32768, High: 60999},
		Boot:          agentapi.Boot{Range: agentapi.Range{Low: 32768, High: 60999}, Set: true, File: "/etc/sysctl.d/90-ports.conf", Line: 3, Reader: "systemd-sysctl"},
		ReservedPorts: "8080,9090", UnprivilegedPortStart: 1024, File: "/etc/sysctl.d/90-ports.conf",
		Usage: &agentapi.Usage{At: time.Now(), Total: 1200, ByState: map[string]int{"ESTABLISHED": 900, "TIME_WAIT": 300}, Risk: "ok"}}
	for i := range 12 {
		o.Listeners = append(o.Listeners, agentapi.Listener{Port: 40000 + i, Process: fmt.Sprintf("worker-%d", i)})
	}
	return agentapi.Report{Version: "1.0.0", PollSeconds: 30, Observed: o}
}
