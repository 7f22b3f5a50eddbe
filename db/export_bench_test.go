package db_test

import (
	"context"
	"testing"

	"portpanel/db"
	"portpanel/db/dbtest"
)

// BenchmarkEachAudit exports a 100,000-event log. allocs/op grows with the
// events, whose strings are scanned anew, but no more than one page of
// them is held at a time.
//
//	go test -run '^$' -bench EachAudit -benchmem ./db/
func BenchmarkEachAudit(b *testing.B) {
	const events = 100_000
	ctx := context.Background()
	d := dbtest.Open(b)
	// One transaction of raw inserts: AppendAudit's fsync per event would
	// take minutes, and the export does not check the chain.
	tx, err := d.SQL().Begin()
	if err != nil {
		b.Fatal(err)
	}
	for i := 1; i <= events; i++ {
		_, err := tx.Exec(`INSERT INTO audit_events (id, at, user_name, action, detail, prev_hash, hash)
			VALUES (?, ?, 'alice', 'login.ok', 'from 192.0.2.1', 'prev', 'hash')`, i, int64(i)*1000)
		if err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		if err := d.EachAudit(ctx, db.Filter{}, func(db.AuditEvent) error { n++; return nil }); err != nil {
			b.Fatal(err)
		}
		if n != events {
			b.Fatalf("exported %d events, want %d", n, events)
		}
	}
}
