package db_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"portpanel/db"
	"portpanel/db/dbtest"
)

func ptr[T any](v T) *T { return &v }

// TestRecordChangeSafeFields round-trips the fields of migration 2. Each
// case says what a read must return (want), which is the input unless a
// normalisation is part of the specification.
func TestRecordChangeSafeFields(t *testing.T) {
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		at := time.Date(2026, 5, 1, 12, 0, 0, 123_000_000, time.UTC) // already at stored precision
		odd := time.Date(2026, 5, 1, 14, 0, 0, 123_456_789, time.FixedZone("CEST", 2*3600))
		tests := []struct {
			name string
			in   func(c *db.Change)
			want func(c *db.Change) // from the input; nil: as given
		}{
			{name: "every field set", in: func(c *db.Change) {
				c.Status = db.StatusConfirmed
				c.Notes = []string{"replaced line 3", "added a comment"}
				c.FileAfter = []byte("net.ipv4.ip_local_port_range = 20000 60999\n")
				c.FileAfterHash, c.BaseFileHash = "after", "absent"
				c.ConfirmWithin = 2 * time.Minute
				c.ConfirmBy = ptr(at.Add(2 * time.Minute))
				c.DecidedBy, c.DecidedAt, c.DecisionReason = "bob", ptr(at.Add(-time.Hour)), "looks right"
				c.ConfirmedBy, c.ConfirmedAt = "alice", ptr(at.Add(time.Minute))
				c.Emergency = true
			}},
			{name: "nothing new set reads back as zero values", in: func(c *db.Change) {}},
			{name: "planned empty file stays non-nil", in: func(c *db.Change) { c.FileAfter = []byte{} }},
			{name: "file removal stores no content", in: func(c *db.Change) {
				c.RemoveFile, c.FileAfter, c.FileAfterHash = true, []byte("left over"), "absent"
			}, want: func(c *db.Change) { c.FileAfter = nil }},
			{name: "empty notes are nil", in: func(c *db.Change) { c.Notes = []string{} },
				want: func(c *db.Change) { c.Notes = nil }},
			{name: "nullable times kept to the millisecond in UTC", in: func(c *db.Change) {
				c.ConfirmBy, c.DecidedAt, c.ConfirmedAt = &odd, &odd, &odd
			}, want: func(c *db.Change) {
				ms := odd.Truncate(time.Millisecond).UTC()
				c.ConfirmBy, c.DecidedAt, c.ConfirmedAt = &ms, &ms, &ms
			}},
			{name: "confirmation window kept in whole seconds", in: func(c *db.Change) {
				c.ConfirmWithin = 90*time.Second + 700*time.Millisecond
			}, want: func(c *db.Change) { c.ConfirmWithin = 90 * time.Second }},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				in := change(20000, 60999)
				in.CreatedAt = at
				tt.in(&in)
				want := in
				want.UpdatedAt = at // UpdatedAt is CreatedAt on insert
				if tt.want != nil {
					tt.want(&want)
				}
				stored, _, err := d.RecordChange(ctx, in, db.AuditEvent{Action: "change." + in.Status}, nil)
				if err != nil {
					t.Fatalf("RecordChange: %v", err)
				}
				want.ID = stored.ID
				if !reflect.DeepEqual(stored, want) {
					t.Errorf("RecordChange returned\n%+v\nwant\n%+v", stored, want)
				}
				got, err := d.Change(ctx, stored.ID)
				if err != nil {
					t.Fatalf("Change(%d): %v", stored.ID, err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("read back\n%+v\nwant\n%+v", got, want)
				}
			})
		}
	})
}

func TestRecordChangeStatuses(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		for _, status := range []string{db.StatusProposed, db.StatusApproved, db.StatusRejected,
			db.StatusApplying, db.StatusApplied, db.StatusFailed, db.StatusReverted, db.StatusConfirmed} {
			t.Run(status, func(t *testing.T) {
				c := change(1, 2)
				c.Status = status
				got, _, err := d.RecordChange(context.Background(), c, db.AuditEvent{Action: "change." + status}, nil)
				if err != nil || got.Status != status {
					t.Errorf("RecordChange(status %s) = status %q, %v; want it stored", status, got.Status, err)
				}
			})
		}
	})
}

func TestRecordChangeRefusesNegativeWindow(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		c := change(1, 2)
		c.ConfirmWithin = -time.Second
		if _, _, err := d.RecordChange(context.Background(), c, db.AuditEvent{Action: "x"}, nil); err == nil {
			t.Fatal("RecordChange with a negative confirmation window succeeded, want error")
		}
		if n := countRows(t, d, "changes"); n != 0 {
			t.Errorf("%d changes stored, want 0", n)
		}
	})
}
