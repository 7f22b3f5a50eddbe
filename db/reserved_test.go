package db_test

import (
	"context"
	"testing"

	"portpanel/db"
	"portpanel/db/dbtest"
)

// The reserved-ports columns of migration 13: "" (no port reserved) and
// nil (the change leaves the key alone) are different values.
func TestChangeReservedPorts(t *testing.T) {
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		cases := []struct {
			name          string
			after, before *string
		}{
			{"not set by the change", nil, nil},
			{"reserves ports", ptr("5432,8080"), ptr("")},
			{"clears the list", ptr(""), ptr("5432")},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				c := change(20000, 60999)
				c.ReservedPorts, c.BeforeReservedPorts = tc.after, tc.before
				stored, _, err := d.RecordChange(ctx, c, db.AuditEvent{Action: "change.applied"}, nil)
				if err != nil {
					t.Fatal(err)
				}
				got, err := d.Change(ctx, stored.ID)
				if err != nil {
					t.Fatal(err)
				}
				if !sameStr(got.ReservedPorts, tc.after) || !sameStr(got.BeforeReservedPorts, tc.before) {
					t.Errorf("read back %v → %v, want %v → %v", str(got.BeforeReservedPorts), str(got.ReservedPorts), str(tc.before), str(tc.after))
				}
				got.Status = db.StatusReverted
				moved, err := d.Transition(ctx, []db.Transition{{From: db.StatusApplied, Change: got}}, nil, nil)
				if err != nil || !sameStr(moved[0].ReservedPorts, tc.after) {
					t.Errorf("Transition kept %v (%v), want %v", str(moved[0].ReservedPorts), err, str(tc.after))
				}
			})
		}
		c := change(20000, 60999)
		c.ReservedPorts = ptr("5432")
		if _, _, err := d.RecordChange(ctx, c, db.AuditEvent{Action: "change.applied"}, nil); err == nil {
			t.Error("a change with an after list but no before list was stored")
		}
	})
}

func TestSampleReservedPorts(t *testing.T) {
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		for _, r := range []*string{nil, ptr(""), ptr("5432,8080-8090")} {
			s, err := d.InsertSample(ctx, db.Sample{Low: 1, High: 2, Source: db.SourceSample, ReservedPorts: r})
			if err != nil {
				t.Fatal(err)
			}
			got, err := d.LatestSample(ctx)
			if err != nil || got.ID != s.ID || !sameStr(got.ReservedPorts, r) {
				t.Errorf("LatestSample() = %v (%v), want %v", str(got.ReservedPorts), err, str(r))
			}
		}
	})
}

func sameStr(a, b *string) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

func str(s *string) string {
	if s == nil {
		return "nil"
	}
	return "\"" + *s + "\""
}
