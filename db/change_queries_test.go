package db_test

import (
	"context"
	"testing"
	"time"

	"portpanel/db"
	"portpanel/db/dbtest"
)

func TestChangesByStatus(t *testing.T) {
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		byStatus := map[string][]int64{}
		for _, s := range []string{db.StatusProposed, db.StatusApplied, db.StatusProposed, db.StatusApplying, db.StatusApproved} {
			c := record(t, d, s)
			byStatus[s] = append(byStatus[s], c.ID)
		}
		tests := []struct {
			name     string
			statuses []string
			want     []int64
			wantErr  bool
		}{
			{name: "one status, oldest first", statuses: []string{db.StatusProposed}, want: byStatus[db.StatusProposed]},
			{name: "several statuses in id order, whatever the argument order",
				statuses: []string{db.StatusApproved, db.StatusApplying},
				want:     []int64{byStatus[db.StatusApplying][0], byStatus[db.StatusApproved][0]}},
			{name: "status nobody is in", statuses: []string{db.StatusConfirmed}},
			{name: "no statuses", statuses: nil},
			{name: "misspelt status is an error", statuses: []string{"aplied"}, wantErr: true},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				cs, err := d.ChangesByStatus(ctx, tt.statuses...)
				if (err != nil) != tt.wantErr {
					t.Fatalf("ChangesByStatus(%v) error = %v, want error %v", tt.statuses, err, tt.wantErr)
				}
				if got := ids(cs, func(c db.Change) int64 { return c.ID }); !equal(got, tt.want) {
					t.Errorf("ChangesByStatus(%v) = %v, want %v", tt.statuses, got, tt.want)
				}
			})
		}
	})
}

func TestAwaitingConfirmation(t *testing.T) {
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		base := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
		add := func(status string, by *time.Time) int64 {
			c := change(1, 2)
			c.Status, c.ConfirmBy = status, by
			if by != nil {
				c.ConfirmWithin = time.Minute
			}
			c, _, err := d.RecordChange(ctx, c, db.AuditEvent{Action: "change." + status}, nil)
			if err != nil {
				t.Fatalf("record: %v", err)
			}
			return c.ID
		}
		late := add(db.StatusApplied, ptr(base.Add(2*time.Minute)))
		add(db.StatusApplied, nil)                                 // no window
		add(db.StatusConfirmed, ptr(base))                         // already confirmed
		add(db.StatusReverted, ptr(base))                          // deadline passed, reverted
		early := add(db.StatusApplied, ptr(base.Add(time.Minute))) // nearest deadline
		tie := add(db.StatusApplied, ptr(base.Add(2*time.Minute))) // same deadline as late: by id

		cs, err := d.AwaitingConfirmation(ctx)
		if err != nil {
			t.Fatalf("AwaitingConfirmation: %v", err)
		}
		if got, want := ids(cs, func(c db.Change) int64 { return c.ID }), []int64{early, late, tie}; !equal(got, want) {
			t.Errorf("AwaitingConfirmation = %v, want %v (applied with a deadline, nearest first)", got, want)
		}
	})
}
