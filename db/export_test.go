package db_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"testing"
	"time"

	"portpanel/db"
	"portpanel/db/dbtest"
)

// filterCases run against both the audit log and the change history,
// filled by filterFixture: row i (ids 1..7) is at t0+i minutes, by
// exportUsers[i%3].
var (
	exportT0    = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	exportUsers = []string{"bob", "", "alice"}
	minute      = func(i int) time.Time { return exportT0.Add(time.Duration(i) * time.Minute) }
	filterCases = []struct {
		name   string
		filter db.Filter
		want   []int64 // oldest first
	}{
		{name: "no filter matches all", want: []int64{1, 2, 3, 4, 5, 6, 7}},
		{name: "by user", filter: db.Filter{User: "bob"}, want: []int64{3, 6}},
		{name: "from is inclusive", filter: db.Filter{From: minute(3)}, want: []int64{3, 4, 5, 6, 7}},
		{name: "from within a ms rounds up", filter: db.Filter{From: minute(3).Add(time.Nanosecond)},
			want: []int64{4, 5, 6, 7}},
		{name: "to is exclusive", filter: db.Filter{To: minute(5)}, want: []int64{1, 2, 3, 4}},
		{name: "to just after a row includes it", filter: db.Filter{To: minute(5).Add(time.Nanosecond)},
			want: []int64{1, 2, 3, 4, 5}},
		{name: "window and user", filter: db.Filter{From: minute(2), To: minute(7), User: "alice"},
			want: []int64{2, 5}},
		{name: "empty window", filter: db.Filter{From: minute(5), To: minute(5)}},
		{name: "unknown user", filter: db.Filter{User: "carol"}},
	}
)

// lister is one table's filtered queries, as ids.
type lister struct {
	page func(f db.Filter, limit int, before int64) ([]int64, error)
	each func(f db.Filter) ([]int64, error)
}

func auditLister(t *testing.T) lister {
	ctx := context.Background()
	d := dbtest.Open(t)
	for i := 1; i <= 7; i++ {
		if _, err := d.AppendAudit(ctx, db.AuditEvent{At: minute(i), User: exportUsers[i%3], Action: "x"}); err != nil {
			t.Fatalf("append event %d: %v", i, err)
		}
	}
	id := func(e db.AuditEvent) int64 { return e.ID }
	return lister{
		page: func(f db.Filter, limit int, before int64) ([]int64, error) {
			rows, err := d.AuditFiltered(ctx, f, limit, before)
			return ids(rows, id), err
		},
		each: func(f db.Filter) (out []int64, err error) {
			err = d.EachAudit(ctx, f, func(e db.AuditEvent) error { out = append(out, e.ID); return nil })
			return out, err
		},
	}
}

func changeLister(t *testing.T) lister {
	ctx := context.Background()
	d := dbtest.Open(t)
	for i := 1; i <= 7; i++ {
		c := change(20000+i, 60999)
		c.CreatedAt, c.User = minute(i), exportUsers[i%3]
		if _, _, err := d.RecordChange(ctx, c, db.AuditEvent{Action: "change.applied"}, nil); err != nil {
			t.Fatalf("record change %d: %v", i, err)
		}
	}
	id := func(c db.Change) int64 { return c.ID }
	return lister{
		page: func(f db.Filter, limit int, before int64) ([]int64, error) {
			rows, err := d.ChangesFiltered(ctx, f, limit, before)
			return ids(rows, id), err
		},
		each: func(f db.Filter) (out []int64, err error) {
			err = d.EachChange(ctx, f, func(c db.Change) error { out = append(out, c.ID); return nil })
			return out, err
		},
	}
}

func TestFilteredQueries(t *testing.T) {
	for name, l := range map[string]lister{"audit": auditLister(t), "changes": changeLister(t)} {
		for _, tt := range filterCases {
			t.Run(name+"/"+tt.name, func(t *testing.T) {
				newest := slices.Clone(tt.want)
				slices.Reverse(newest)
				if got, err := l.each(tt.filter); err != nil || !equal(got, tt.want) {
					t.Errorf("each = %v, %v; want %v", got, err, tt.want)
				}
				if got, err := l.page(tt.filter, 100, 0); err != nil || !equal(got, newest) {
					t.Errorf("one page = %v, %v; want %v", got, err, newest)
				}
				// Pages of 2 cross page boundaries wherever the filter
				// puts them; walking must neither skip nor repeat a row.
				var walked []int64
				for before := int64(0); ; {
					page, err := l.page(tt.filter, 2, before)
					if err != nil {
						t.Fatalf("page before %d: %v", before, err)
					}
					if len(page) > 2 {
						t.Fatalf("page before %d has %d rows, limit 2", before, len(page))
					}
					if len(page) == 0 {
						break
					}
					walked = append(walked, page...)
					before = page[len(page)-1]
				}
				if !equal(walked, newest) {
					t.Errorf("walked pages of 2 = %v, want %v", walked, newest)
				}
			})
		}
	}
}

// appendAlternating appends n events by alice and bob in turn, in one
// transaction each (as in production).
func appendAlternating(t testing.TB, d *db.DB, n int) {
	t.Helper()
	for i := range n {
		user := []string{"alice", "bob"}[i%2]
		if _, err := d.AppendAudit(context.Background(), db.AuditEvent{User: user, Action: "login.ok"}); err != nil {
			t.Fatalf("append event %d: %v", i+1, err)
		}
	}
}

func TestEachAuditOverManyPages(t *testing.T) {
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		appendAlternating(t, d, 2000) // 4 full pages: the last one is followed by an empty read
		tests := []struct {
			name   string
			filter db.Filter
			want   func(i int64) bool // which of ids 1..2000 match
		}{
			{name: "all, in id order", want: func(int64) bool { return true }},
			{name: "alice's, in id order", filter: db.Filter{User: "alice"}, want: func(i int64) bool { return i%2 == 1 }},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				var want []int64
				for i := int64(1); i <= 2000; i++ {
					if tt.want(i) {
						want = append(want, i)
					}
				}
				var got []int64
				err := d.EachAudit(ctx, tt.filter, func(e db.AuditEvent) error {
					got = append(got, e.ID)
					return nil
				})
				if err != nil || !equal(got, want) {
					t.Errorf("EachAudit visited %d events (%v), want %d in order", len(got), err, len(want))
				}
			})
		}
		t.Run("stops at fn's first error", func(t *testing.T) {
			stop := errors.New("client went away")
			calls := 0
			err := d.EachAudit(ctx, db.Filter{}, func(e db.AuditEvent) error {
				calls++
				if e.ID == 750 { // in the middle of the second page
					return stop
				}
				return nil
			})
			if err != stop || calls != 750 { // unwrapped, as documented
				t.Errorf("EachAudit = %v after %d calls; want fn's own error after 750", err, calls)
			}
		})
	})
}

// TestEachAuditLeavesOutLaterEvents: an export is the log as it was when
// it started, even when events are appended while it runs.
func TestEachAuditLeavesOutLaterEvents(t *testing.T) {
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		appendAlternating(t, d, 600)
		var last int64
		err := d.EachAudit(ctx, db.Filter{}, func(e db.AuditEvent) error {
			if e.ID == 1 {
				appendAlternating(t, d, 10)
			}
			last = e.ID
			return nil
		})
		if err != nil || last != 600 {
			t.Errorf("EachAudit ended at event %d (%v), want 600, the last one before it started", last, err)
		}
	})
}

func TestChangeCounts(t *testing.T) {
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		zero := map[string]int{}
		for _, s := range []string{db.StatusProposed, db.StatusApproved, db.StatusRejected, db.StatusApplying,
			db.StatusApplied, db.StatusFailed, db.StatusReverted, db.StatusConfirmed} {
			zero[s] = 0
		}
		if got, err := d.ChangeCounts(ctx); err != nil || !maps.Equal(got, zero) {
			t.Errorf("ChangeCounts on empty = %v, %v; want every status at 0", got, err)
		}
		want := maps.Clone(zero)
		for _, s := range []string{db.StatusApplied, db.StatusFailed, db.StatusApplied, db.StatusProposed} {
			c := change(20000, 60999)
			c.Status = s
			if _, _, err := d.RecordChange(ctx, c, db.AuditEvent{Action: "change." + s}, nil); err != nil {
				t.Fatalf("record %s change: %v", s, err)
			}
			want[s]++
		}
		if got, err := d.ChangeCounts(ctx); err != nil || !maps.Equal(got, want) {
			t.Errorf("ChangeCounts = %v, %v; want %v", got, err, want)
		}
	})
}
