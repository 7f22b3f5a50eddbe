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
		o, _ := json.Marshal(agentapi.Observed{Runtime: agentapi.Range{Low: 32768, High: 60999}})
		if _, err := d.RecordHostReport(ctx, host.ID, db.HostReport{At: clock, PollSeconds: 30, Observed: o}); err != nil {
			t.Fatal(err)
		}
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
