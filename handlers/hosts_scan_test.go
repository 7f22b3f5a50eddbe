package handlers

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"portpanel/agentapi"
	"portpanel/db"
	"portpanel/db/dbtest"
	"portpanel/fleet"
)

// The read of every host is shared for up to a second and decoded once
// per report, but each request computes states at its own time: a host
// that stops reporting turns stale on time, cache or not.
func TestHostScan(t *testing.T) {
	ctx := context.Background()
	d := dbtest.Open(t)
	clock := time.Now()
	f := &fleet.Service{DB: d, Now: func() time.Time { return clock }}
	h := &Handlers{DB: d, Now: func() time.Time { return clock }}
	report := func(id int64, low int) {
		t.Helper()
		o, _ := json.Marshal(agentapi.Observed{Runtime: agentapi.Range{Low: low, High: 60999}})
		if _, err := d.RecordHostReport(ctx, id, db.HostReport{At: clock, PollSeconds: 30, Observed: o}); err != nil {
			t.Fatal(err)
		}
	}
	enroll := func(name string) {
		t.Helper()
		token, _, err := f.CreateEnrollment(ctx, "root", "g", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		pub, _, _ := agentapi.GenerateKey()
		host, err := f.Enroll(ctx, agentapi.EnrollRequest{Token: token, Name: name, PublicKey: agentapi.EncodePublicKey(pub)}, "test")
		if err != nil {
			t.Fatal(err)
		}
		report(host.ID, 32768)
	}
	list := func() map[string]hostView {
		t.Helper()
		out := map[string]hostView{}
		if err := h.eachHost(ctx, func(v hostView) { out[v.Name] = v }); err != nil {
			t.Fatal(err)
		}
		return out
	}
	enroll("a")
	first := list()
	if first["a"].State != fleet.StateOK {
		t.Fatalf("a = %s, want ok", first["a"].State)
	}
	clock = clock.Add(2 * time.Minute) // 4 polls of 30 s without a report
	if got := list()["a"]; got.State != fleet.StateStale || got.Observed != first["a"].Observed {
		t.Errorf("2 min later: a = %s (report decoded again: %v), want stale from the same read", got.State, got.Observed != first["a"].Observed)
	}
	enroll("b")
	clock = clock.Add(hostScanFor + time.Millisecond)
	again := list()
	if _, ok := again["b"]; !ok || again["a"].Observed != first["a"].Observed {
		t.Errorf("a second later: b listed %v, a decoded again %v; want b listed, a's report decoded once", ok, again["a"].Observed != first["a"].Observed)
	}
}

// Between full reads, a read takes only the hosts that changed: a new
// report is seen (and decoded), the others keep their decoded documents,
// and a host enrolled meanwhile takes its place by name.
func TestHostScanReadsWhatChanged(t *testing.T) {
	ctx := context.Background()
	d := dbtest.Open(t)
	clock := time.Now()
	f := &fleet.Service{DB: d, Now: func() time.Time { return clock }}
	h := &Handlers{DB: d, Now: func() time.Time { return clock }}
	ids := map[string]int64{}
	for _, name := range []string{"b", "d"} {
		token, _, _ := f.CreateEnrollment(ctx, "root", "g", time.Hour)
		pub, _, _ := agentapi.GenerateKey()
		host, err := f.Enroll(ctx, agentapi.EnrollRequest{Token: token, Name: name, PublicKey: agentapi.EncodePublicKey(pub)}, "test")
		if err != nil {
			t.Fatal(err)
		}
		ids[name] = host.ID
	}
	o := func(low int) []byte {
		b, _ := json.Marshal(agentapi.Observed{Runtime: agentapi.Range{Low: low, High: 60999}})
		return b
	}
	for name, low := range map[string]int{"b": 30000, "d": 40000} {
		if _, err := d.RecordHostReport(ctx, ids[name], db.HostReport{At: clock, PollSeconds: 30, Observed: o(low)}); err != nil {
			t.Fatal(err)
		}
	}
	list := func() []hostView {
		var out []hostView
		if err := h.eachHost(ctx, func(v hostView) { out = append(out, v) }); err != nil {
			t.Fatal(err)
		}
		return out
	}
	first := list()
	clock = clock.Add(20 * time.Second) // past hostScanFor and the margin, short of hostScanFull
	if _, err := d.RecordHostReport(ctx, ids["b"], db.HostReport{At: clock, PollSeconds: 30, Observed: o(31000)}); err != nil {
		t.Fatal(err)
	}
	token, _, _ := f.CreateEnrollment(ctx, "root", "g", time.Hour)
	pub, _, _ := agentapi.GenerateKey()
	if _, err := f.Enroll(ctx, agentapi.EnrollRequest{Token: token, Name: "c", PublicKey: agentapi.EncodePublicKey(pub)}, "test"); err != nil {
		t.Fatal(err)
	}
	got := list()
	var names []string
	for _, v := range got {
		names = append(names, v.Name)
	}
	if len(got) != 3 || names[0] != "b" || names[1] != "c" || names[2] != "d" {
		t.Fatalf("hosts = %v, want b c d by name", names)
	}
	if got[0].Observed.Runtime.Low != 31000 || got[2].Observed != first[1].Observed {
		t.Errorf("b's low = %d (want its new report's 31000); d's report decoded again: %v", got[0].Observed.Runtime.Low, got[2].Observed != first[1].Observed)
	}
}

// On PostgreSQL db.Version leaves the fleet's tables out (a report moves
// nothing), so the scan must not keep a read past hostScanFor because the
// version held still: a report is seen a second later on both stores.
func TestHostScanSeesReportsTheVersionMisses(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		clock := time.Now()
		f := &fleet.Service{DB: d, Now: func() time.Time { return clock }}
		h := &Handlers{DB: d, Now: func() time.Time { return clock }}
		token, _, err := f.CreateEnrollment(ctx, "root", "g", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		pub, _, _ := agentapi.GenerateKey()
		host, err := f.Enroll(ctx, agentapi.EnrollRequest{Token: token, Name: "a", PublicKey: agentapi.EncodePublicKey(pub)}, "test")
		if err != nil {
			t.Fatal(err)
		}
		low := func() int {
			t.Helper()
			got := 0
			if err := h.eachHost(ctx, func(v hostView) {
				if v.Observed != nil {
					got = v.Observed.Runtime.Low
				}
			}); err != nil {
				t.Fatal(err)
			}
			return got
		}
		if got := low(); got != 0 {
			t.Fatalf("before any report: low %d", got)
		}
		clock = clock.Add(hostScanFor + time.Millisecond)
		o, _ := json.Marshal(agentapi.Observed{Runtime: agentapi.Range{Low: 40000, High: 60999}})
		if _, err := d.RecordHostReport(ctx, host.ID, db.HostReport{At: clock, PollSeconds: 30, Observed: o}); err != nil {
			t.Fatal(err)
		}
		clock = clock.Add(hostScanFor + time.Millisecond)
		if got := low(); got != 40000 {
			t.Errorf("a second after a report: low %d, want the report's 40000", got)
		}
	})
}
