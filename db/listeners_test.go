package db_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"portpanel/db"
	"portpanel/db/dbtest"
)

// TestHazardsRoundTrip: a change's hazards and acknowledgements read back
// as stored, through RecordChange and Transition (an approval adds to
// them), and "none" is one value.
func TestHazardsRoundTrip(t *testing.T) {
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		in := change(15000, 15000)
		in.Status = db.StatusProposed
		in.Hazards = []db.Hazard{{Code: "small-range", Message: "1 port"}, {Code: "listener-in-range", Message: "5432/tcp"}}
		in.Acknowledged = []string{"small-range"}
		stored, _, err := d.RecordChange(ctx, in, db.AuditEvent{Action: "change.proposed"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := d.Change(ctx, stored.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.Hazards, in.Hazards) || !reflect.DeepEqual(got.Acknowledged, in.Acknowledged) {
			t.Fatalf("read back hazards %+v acknowledged %q, want %+v %q", got.Hazards, got.Acknowledged, in.Hazards, in.Acknowledged)
		}
		got.Status, got.UpdatedAt = db.StatusApproved, got.UpdatedAt.Add(time.Second)
		got.Acknowledged = append(got.Acknowledged, "listener-in-range")
		if _, err := d.Transition(ctx, []db.Transition{{From: db.StatusProposed, Change: got}}, nil, nil); err != nil {
			t.Fatal(err)
		}
		again, err := d.Change(ctx, stored.ID)
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"small-range", "listener-in-range"}; !reflect.DeepEqual(again.Acknowledged, want) {
			t.Errorf("after the approval acknowledged = %q, want %q", again.Acknowledged, want)
		}

		plain, _, err := d.RecordChange(ctx, db.Change{Status: db.StatusApplied, Low: 1, High: 2, Hazards: []db.Hazard{}, Acknowledged: []string{}},
			db.AuditEvent{Action: "change.applied"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if plain.Hazards != nil || plain.Acknowledged != nil {
			t.Errorf("empty hazards stored as %#v %#v, want nil", plain.Hazards, plain.Acknowledged)
		}
	})
}

// TestListenerSightings: a scan adds what it sees and moves the last time
// (and PID) of what was seen before; first_seen stays; pruning removes
// only what was not seen since the cut.
func TestListenerSightings(t *testing.T) {
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t0 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
		pg := db.ListenerSighting{Proto: "tcp", Port: 5432, Process: "postgres", PID: 100}
		dns := db.ListenerSighting{Proto: "udp", Port: 53, Process: "", PID: 0}
		if err := d.RecordListeners(ctx, t0, []db.ListenerSighting{pg, dns}); err != nil {
			t.Fatal(err)
		}
		pg.PID = 200 // restarted
		if err := d.RecordListeners(ctx, t0.Add(8*24*time.Hour), []db.ListenerSighting{pg}); err != nil {
			t.Fatal(err)
		}
		all, err := d.ListenersSince(ctx, t0)
		if err != nil {
			t.Fatal(err)
		}
		want := []db.ListenerSighting{
			{Proto: "udp", Port: 53, FirstSeen: t0, LastSeen: t0},
			{Proto: "tcp", Port: 5432, Process: "postgres", PID: 200, FirstSeen: t0, LastSeen: t0.Add(8 * 24 * time.Hour)},
		}
		if !reflect.DeepEqual(all, want) {
			t.Fatalf("ListenersSince =\n%+v\nwant\n%+v", all, want)
		}
		cut := t0.Add(24 * time.Hour)
		if recent, err := d.ListenersSince(ctx, cut); err != nil || len(recent) != 1 || recent[0].Port != 5432 {
			t.Errorf("ListenersSince(cut) = %+v, %v; want only 5432", recent, err)
		}
		n, err := d.PruneListeners(ctx, cut)
		if err != nil || n != 1 {
			t.Fatalf("PruneListeners = %d, %v; want 1 deleted", n, err)
		}
		if left, _ := d.ListenersSince(ctx, t0); len(left) != 1 || left[0].Port != 5432 {
			t.Errorf("after pruning %+v left, want only 5432", left)
		}
	})
}
