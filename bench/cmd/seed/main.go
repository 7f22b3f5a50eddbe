// Command seed fills a portpanel database with a synthetic history for
// bench/run.sh: changes with one audit event each (a valid hash chain),
// range samples, and a year of usage history.
//
// The newest rows are the same whatever the size (a "tail" of 1,000 changes,
// events and samples an hour apart, the last 7 days of usage), and the rest
// lie further back in time, so a small and a large database show the same
// first pages and the same 30-day charts: any difference in latency between
// them is the cost of the history behind, which is what the benchmark asks
// to keep flat.
//
//	seed -db PATH -rows 1000000 -samples 10000000
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"os"
	"time"

	_ "modernc.org/sqlite"

	"portpanel/db"
)

// tail is how many of the newest changes, events and samples are laid out
// identically in every seeded database, an hour apart (41 days: more than
// the 30-day chart and the history page's 30-day change lookback).
const tail = 1000

const (
	hourMS = int64(time.Hour / time.Millisecond)
	dayMS  = 24 * hourMS
	// bulkEnd is how long before now the older rows end: beyond the
	// history page's window plus its change lookback, so they never show
	// on the pages measured except through a deep keyset page.
	bulkEnd = 90 * dayMS
)

func main() {
	path := flag.String("db", "", "database file to create (must not exist)")
	rows := flag.Int("rows", 1000, "changes, and audit events (one per change)")
	samples := flag.Int("samples", 1000, "range history samples")
	flag.Parse()
	if err := run(*path, *rows, *samples); err != nil {
		fmt.Fprintln(os.Stderr, "seed:", err)
		os.Exit(1)
	}
}

func run(path string, rows, samples int) error {
	if path == "" || rows < 1 || samples < 1 {
		return fmt.Errorf("give -db, and -rows and -samples of at least 1")
	}
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("%s exists: seed only creates a database", path)
	}
	ctx := context.Background()
	// portpanel's own Open creates the schema, so the seed follows its
	// migrations instead of copying them.
	d, err := db.Open(ctx, path)
	if err != nil {
		return err
	}
	if err := d.Close(); err != nil {
		return err
	}
	// No journal and no fsync while seeding: a failed seed is deleted,
	// never repaired. WAL is put back at the end, as portpanel expects.
	sqlDB, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(OFF)&_pragma=synchronous(OFF)"+
		"&_pragma=foreign_keys(0)&_pragma=cache_size(-262144)&_pragma=temp_store(MEMORY)")
	if err != nil {
		return err
	}
	defer sqlDB.Close()
	sqlDB.SetMaxOpenConns(1)
	now := time.Now().UnixMilli()
	start := time.Now()
	tx, err := sqlDB.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	steps := []struct {
		what string
		fn   func() error
	}{
		{"changes", func() error { return seedChanges(ctx, tx, rows, now) }},
		{"audit events", func() error { return seedAudit(ctx, tx, rows, now) }},
		{"samples", func() error { return seedSamples(ctx, tx, samples, now) }},
		{"usage history", func() error { return seedUsage(ctx, tx, now) }},
	}
	for _, s := range steps {
		t := time.Now()
		if err := s.fn(); err != nil {
			return fmt.Errorf("seed %s: %w", s.what, err)
		}
		fmt.Fprintf(os.Stderr, "seed: %s in %s\n", s.what, time.Since(t).Round(time.Millisecond))
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	if _, err := sqlDB.ExecContext(ctx, "PRAGMA journal_mode=WAL"); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "seed: %s: %d changes and audit events, %d samples in %s\n",
		path, rows, samples, time.Since(start).Round(time.Millisecond))
	return nil
}

// atSQL is the time of row i of n (ids ascending with time) as SQL: the
// newest tail rows an hour apart up to a minute ago, the older ones step
// ms apart ending bulkEnd ago.
func atSQL(n int, now, step int64) string {
	t := min(n, tail)
	return fmt.Sprintf(`CASE WHEN i > %[1]d THEN %[2]d - 60000 - (%[3]d - i) * %[4]d
		ELSE %[2]d - %[5]d - (%[1]d - i) * %[6]d END`, n-t, now, n, hourMS, bulkEnd, step)
}

// seedChanges writes n changes in one INSERT … SELECT: mostly applied (as
// changes without a confirmation window stay), every tenth a rollback of
// the one before (then reverted), some confirmed and some failed.
func seedChanges(ctx context.Context, tx *sql.Tx, n int, now int64) error {
	const file = "/etc/sysctl.d/90-portpanel.conf"
	q := `WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < :n),
	r AS (SELECT i, ` + atSQL(n, now, 60_000) + ` AS at,
		30000 + (i % 1000) * 2 AS low, 30000 + ((i - 1) % 1000) * 2 AS before_low FROM s)
	INSERT INTO changes (id, status, low, high, before_low, before_high, reason, user_id, user_name,
		created_at, file, diff, error, rollback_of, warnings, file_existed, file_before, file_after_hash,
		file_after, base_file_hash, updated_at)
	SELECT i,
		CASE WHEN i % 10 = 9 AND i < :n THEN 'reverted' WHEN i % 50 = 3 THEN 'failed'
			WHEN i % 20 = 5 THEN 'confirmed' ELSE 'applied' END,
		low, 60999, before_low, 60999, 'seeded change ' || i || ': more ports for the proxies',
		1, 'bench', at, :file,
		'--- ' || :file || char(10) || '+++ ' || :file || char(10) || '@@ -1,2 +1,2 @@' || char(10) ||
		' # managed by portpanel' || char(10) || '-net.ipv4.ip_local_port_range = ' || before_low ||
		' 60999' || char(10) || '+net.ipv4.ip_local_port_range = ' || low || ' 60999' || char(10),
		CASE WHEN i % 50 = 3 THEN 'the kernel refused the range: invalid argument' ELSE '' END,
		CASE WHEN i % 10 = 0 THEN i - 1 END, '[]', 1,
		CAST('# managed by portpanel' || char(10) || 'net.ipv4.ip_local_port_range = ' || before_low ||
			' 60999' || char(10) AS BLOB),
		lower(hex(randomblob(32))),
		CAST('# managed by portpanel' || char(10) || 'net.ipv4.ip_local_port_range = ' || low ||
			' 60999' || char(10) AS BLOB),
		lower(hex(randomblob(32))), at
	FROM r`
	_, err := tx.ExecContext(ctx, q, sql.Named("n", n), sql.Named("file", file))
	return err
}
