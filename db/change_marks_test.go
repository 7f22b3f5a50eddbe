package db_test

import (
	"context"
	"testing"
	"time"

	"portpanel/db"
	"portpanel/db/dbtest"
)

// TestChangeMarks: the changes created since a time that set one of the
// ranges asked for, newest first, with the fields a chart links its
// markers by, as RecordChange stored them.
func TestChangeMarks(t *testing.T) {
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
		var ids []int64
		for i := range 5 {
			c := change(20000+i, 60999)
			c.CreatedAt = base.Add(time.Duration(i) * time.Hour)
			if i == 3 {
				c.Status = db.StatusFailed
			}
			got, _, err := d.RecordChange(ctx, c, db.AuditEvent{Action: "change.applied"}, nil)
			if err != nil {
				t.Fatalf("record change %d: %v", i, err)
			}
			ids = append(ids, got.ID)
		}
		// Every range set but change 1's, and one no change set.
		ranges := [][2]int{{20000, 60999}, {20002, 60999}, {20003, 60999}, {20004, 60999}, {20001, 61000}}
		for _, tt := range []struct {
			name  string
			since time.Time
			limit int
			want  []int64
		}{
			{"all of those ranges", base, 10, []int64{ids[4], ids[3], ids[2], ids[0]}},
			{"since a change's time: it is included", base.Add(2 * time.Hour), 10, []int64{ids[4], ids[3], ids[2]}},
			{"a ns after it: it is not", base.Add(2*time.Hour + 1), 10, []int64{ids[4], ids[3]}},
			{"limited to the newest", base, 2, []int64{ids[4], ids[3]}},
			{"none", base.Add(5 * time.Hour), 10, nil},
		} {
			t.Run(tt.name, func(t *testing.T) {
				got, err := d.ChangeMarks(ctx, tt.since, ranges, tt.limit)
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != len(tt.want) {
					t.Fatalf("ChangeMarks = %d changes, want ids %v", len(got), tt.want)
				}
				for i, c := range got {
					full, err := d.Change(ctx, c.ID)
					if err != nil {
						t.Fatal(err)
					}
					if c.ID != tt.want[i] || c.Status != full.Status || c.Low != full.Low || c.High != full.High ||
						!c.CreatedAt.Equal(full.CreatedAt) || !c.UpdatedAt.Equal(full.UpdatedAt) {
						t.Errorf("mark %d = %+v, want id %d with the stored change's status, range and times (%+v)", i, c, tt.want[i], full)
					}
				}
			})
		}
		if got, err := d.ChangeMarks(ctx, base, nil, 10); err != nil || len(got) != 0 {
			t.Errorf("ChangeMarks of no ranges = %v, %v; want none", got, err)
		}
	})
}
