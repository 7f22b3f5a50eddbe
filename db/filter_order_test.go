package db_test

import (
	"context"
	"testing"

	"portpanel/db"
	"portpanel/db/dbtest"
)

// A page with a time bound is ordered by (time, id), newest first (see
// listing.page). Where times do not grow with ids (a clock stepped back,
// two events in one ms) paging must still list every matching row once,
// and a cursor must work whatever id it names.
func TestTimedPagesWithTimesOutOfIDOrder(t *testing.T) {
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		// Ids 1..6 at these minutes: 3 steps back behind 2, 4 and 5 share a ms.
		for i, m := range []int{1, 5, 2, 6, 6, 8} {
			if _, err := d.AppendAudit(ctx, db.AuditEvent{At: minute(m), User: "alice", Action: "x"}); err != nil {
				t.Fatalf("append event %d: %v", i+1, err)
			}
		}
		window := db.Filter{From: minute(2), To: minute(8)} // ids 2, 3, 4, 5
		tests := []struct {
			name   string
			f      db.Filter
			before int64
			limit  int
			want   []int64
		}{
			{name: "first page", f: window, limit: 10, want: []int64{5, 4, 2, 3}},
			{name: "one row a page, after 5", f: window, before: 5, limit: 1, want: []int64{4}},
			{name: "after 4", f: window, before: 4, limit: 10, want: []int64{2, 3}},
			{name: "after 2", f: window, before: 2, limit: 10, want: []int64{3}},
			{name: "after 3, the oldest in the window", f: window, before: 3, limit: 10},
			{name: "cursor above every id is the first page", f: window, before: 100, limit: 10, want: []int64{5, 4, 2, 3}},
			{name: "cursor below every id", f: window, before: 1, limit: 10},
			{name: "cursor after the window", f: window, before: 6, limit: 10, want: []int64{5, 4, 2, 3}},
			{name: "from only", f: db.Filter{From: minute(5)}, limit: 10, want: []int64{6, 5, 4, 2}},
			{name: "to only, after 2", f: db.Filter{To: minute(6)}, before: 2, limit: 10, want: []int64{3, 1}},
			{name: "by user in the window", f: db.Filter{User: "alice", From: minute(2), To: minute(8)},
				before: 4, limit: 10, want: []int64{2, 3}},
			// Without a time bound the order stays by id.
			{name: "no filter, by id", limit: 10, want: []int64{6, 5, 4, 3, 2, 1}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				rows, err := d.AuditFiltered(ctx, tt.f, tt.limit, tt.before)
				got := ids(rows, func(e db.AuditEvent) int64 { return e.ID })
				if err != nil || !equal(got, tt.want) {
					t.Errorf("AuditFiltered(before %d) = %v, %v; want %v", tt.before, got, err, tt.want)
				}
			})
		}
		t.Run("walking pages of 1 lists the window once", func(t *testing.T) {
			var walked []int64
			for before := int64(0); len(walked) <= 4; {
				page, err := d.AuditFiltered(ctx, window, 1, before)
				if err != nil {
					t.Fatal(err)
				}
				if len(page) == 0 {
					break
				}
				walked = append(walked, page[0].ID)
				before = page[0].ID
			}
			if want := []int64{5, 4, 2, 3}; !equal(walked, want) {
				t.Errorf("walked %v, want %v", walked, want)
			}
		})
	})
}
