package db_test

import (
	"context"
	"testing"

	"portpanel/db"
	"portpanel/db/dbtest"
)

// TestKeysetPaging walks every newest-first listing page by page, feeding
// the last id of a page back as the cursor.
func TestKeysetPaging(t *testing.T) {
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		// RecordChange writes a change and an audit event; the sample rides
		// along, so each table gets ids 1..7.
		for i := range 7 {
			_, _, err := d.RecordChange(ctx, change(20000+i, 60999), db.AuditEvent{Action: "change.applied"},
				&db.Sample{Low: 20000 + i, High: 60999, Source: db.SourceChange})
			if err != nil {
				t.Fatalf("record change %d: %v", i, err)
			}
		}
		lists := []struct {
			name string
			page func(limit int, before int64) ([]int64, error)
		}{
			{"changes", func(limit int, before int64) ([]int64, error) {
				rows, err := d.Changes(ctx, limit, before)
				return ids(rows, func(c db.Change) int64 { return c.ID }), err
			}},
			{"audit", func(limit int, before int64) ([]int64, error) {
				rows, err := d.Audit(ctx, limit, before)
				return ids(rows, func(e db.AuditEvent) int64 { return e.ID }), err
			}},
			{"samples", func(limit int, before int64) ([]int64, error) {
				rows, err := d.Samples(ctx, limit, before)
				return ids(rows, func(s db.Sample) int64 { return s.ID }), err
			}},
		}
		pages := []struct {
			name   string
			limit  int
			before int64
			want   []int64
		}{
			{name: "first page from the newest", limit: 3, before: 0, want: []int64{7, 6, 5}},
			{name: "second page", limit: 3, before: 5, want: []int64{4, 3, 2}},
			{name: "last, short page", limit: 3, before: 2, want: []int64{1}},
			{name: "past the end is empty", limit: 3, before: 1, want: nil},
			{name: "zero limit means the default page", limit: 0, before: 0, want: []int64{7, 6, 5, 4, 3, 2, 1}},
			{name: "negative limit means the default page", limit: -1, before: 4, want: []int64{3, 2, 1}},
			{name: "cursor need not be an existing id", limit: 2, before: 100, want: []int64{7, 6}},
		}
		for _, l := range lists {
			for _, p := range pages {
				t.Run(l.name+"/"+p.name, func(t *testing.T) {
					got, err := l.page(p.limit, p.before)
					if err != nil {
						t.Fatalf("page(%d, %d): %v", p.limit, p.before, err)
					}
					if !equal(got, p.want) {
						t.Errorf("page(%d, %d) ids = %v, want %v", p.limit, p.before, got, p.want)
					}
				})
			}
		}
	})
}
