package db

import (
	"context"
	"os"
	"testing"
	"time"
)

// BenchmarkLargeFiltered times every filter combination of the audit and
// changes pages, first page and a deep one, on a seeded database (go run
// ./bench/cmd/seed). It needs one, so it runs only when given one; the
// index-use guarantee is TestFilteredPagesAreIndexBounded.
//
//	PORTPANEL_LARGE_DB=/tmp/copy-of-large.db go test -run XXX -bench LargeFiltered ./db/
//
// Open migrates the file, so point it at a copy.
func BenchmarkLargeFiltered(b *testing.B) {
	path := os.Getenv("PORTPANEL_LARGE_DB")
	if path == "" {
		b.Skip("PORTPANEL_LARGE_DB not set")
	}
	ctx := context.Background()
	d, err := Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	for _, tbl := range []struct {
		name, table, timeCol string
		page                 func(Filter, int64) error
	}{
		{"audit", "audit_events", "at", func(f Filter, before int64) error {
			_, err := d.AuditFiltered(ctx, f, 50, before)
			return err
		}},
		{"changes", "changes", "created_at", func(f Filter, before int64) error {
			_, err := d.ChangesFiltered(ctx, f, 50, before)
			return err
		}},
	} {
		var hi int64
		if err := d.sql.QueryRow(`SELECT MAX(` + tbl.timeCol + `) FROM ` + tbl.table).Scan(&hi); err != nil {
			b.Fatal(err)
		}
		// The 300-day window of the issue, ending 100 days before the newest row.
		day := int64(24 * time.Hour / time.Millisecond)
		from, to := fromMS(hi-400*day), fromMS(hi-100*day)
		var deep int64 // a cursor in the middle of the window
		if err := d.sql.QueryRow(`SELECT id FROM `+tbl.table+` WHERE `+tbl.timeCol+` >= ? ORDER BY `+tbl.timeCol+` LIMIT 1`,
			hi-250*day).Scan(&deep); err != nil {
			b.Fatal(err)
		}
		for _, c := range []struct {
			name string
			f    Filter
		}{
			{"none", Filter{}},
			{"user", Filter{User: "bench"}},
			{"rare-user", Filter{User: "nobody"}},
			{"from", Filter{From: from}},
			{"to", Filter{To: to}},
			{"from+to", Filter{From: from, To: to}},
			{"user+from+to", Filter{User: "bench", From: from, To: to}},
		} {
			for _, p := range []struct {
				name   string
				before int64
			}{{"first", 0}, {"deep", deep}} {
				b.Run(tbl.name+"/"+c.name+"/"+p.name, func(b *testing.B) {
					for b.Loop() {
						if err := tbl.page(c.f, p.before); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		}
	}
}
