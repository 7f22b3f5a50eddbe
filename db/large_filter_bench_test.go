package db

import (
	"context"
	"os"
	"slices"
	"testing"
	"time"
)

// TestLargeFilteredTimes times every filter combination of the audit and
// history pages, first page and a deep one, on a seeded database (go run
// ./bench/cmd/seed). It is a measurement, not a check, so it runs only
// when asked; the index-use guarantee is TestFilteredPagesAreIndexBounded.
//
//	PORTPANEL_LARGE_DB=/tmp/copy-of-large.db go test -run LargeFiltered -v ./db/
//
// Open migrates the file, so point it at a copy.
func TestLargeFilteredTimes(t *testing.T) {
	path := os.Getenv("PORTPANEL_LARGE_DB")
	if path == "" {
		t.Skip("PORTPANEL_LARGE_DB not set")
	}
	ctx := context.Background()
	d, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for _, tbl := range []struct {
		name, table, timeCol string
		page                 func(Filter, int64) (int, error)
	}{
		{"audit", "audit_events", "at", func(f Filter, before int64) (int, error) {
			r, err := d.AuditFiltered(ctx, f, 50, before)
			return len(r), err
		}},
		{"changes", "changes", "created_at", func(f Filter, before int64) (int, error) {
			r, err := d.ChangesFiltered(ctx, f, 50, before)
			return len(r), err
		}},
	} {
		var lo, hi int64
		if err := d.sql.QueryRow(`SELECT MIN(`+tbl.timeCol+`), MAX(`+tbl.timeCol+`) FROM `+tbl.table).Scan(&lo, &hi); err != nil {
			t.Fatal(err)
		}
		// The 300-day window of the issue, ending 100 days before the newest row.
		day := int64(24 * time.Hour / time.Millisecond)
		from, to := fromMS(hi-400*day), fromMS(hi-100*day)
		var deep int64 // a cursor in the middle of the window
		if err := d.sql.QueryRow(`SELECT id FROM `+tbl.table+` WHERE `+tbl.timeCol+` >= ? ORDER BY `+tbl.timeCol+` LIMIT 1`,
			hi-250*day).Scan(&deep); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name string
			f    Filter
		}{
			{"none", Filter{}},
			{"user", Filter{User: "bench"}},
			{"rare user", Filter{User: "nobody"}},
			{"from", Filter{From: from}},
			{"to", Filter{To: to}},
			{"from+to", Filter{From: from, To: to}},
			{"user+from+to", Filter{User: "bench", From: from, To: to}},
		} {
			for _, p := range []struct {
				name   string
				before int64
			}{{"first", 0}, {"deep", deep}} {
				var times []time.Duration
				n := 0
				for range 5 {
					start := time.Now()
					if n, err = tbl.page(c.f, p.before); err != nil {
						t.Fatal(err)
					}
					times = append(times, time.Since(start))
				}
				slices.Sort(times)
				t.Logf("%-8s %-13s %-5s page: %3d rows, median %v", tbl.name, c.name, p.name, n, times[len(times)/2])
			}
		}
	}
}
