package db_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"portpanel/db"
	"portpanel/db/dbtest"
)

// memoizedTables are the tables some memoized read (db.Memo, the
// handlers' kept pages and answers) depends on: on PostgreSQL a write to
// one must move db.Version (migration 00019's triggers).
var memoizedTables = []string{"audit_events", "changes", "samples", "sessions", "tokens",
	"usage_hourly", "usage_samples", "users", "webhook_deliveries", "webhook_endpoints"}

// unmemoizedTables are the tables no memoized read depends on, written up
// to a thousand times a second by a fleet: a write to one must leave
// PostgreSQL's version alone, or every page misses its memo (BENCHMARKS.md,
// fleet section). Reads of them are not cached by version alone there
// (db.Version.AllTables).
var unmemoizedTables = []string{"agent_nonces", "host_previews", "host_samples", "hosts",
	"enrollment_tokens", "job_leases", "listener_sightings", "login_throttle", "monitor_state"}

// Every table is in exactly one list, so a table a later migration adds
// cannot serve stale memoized reads unnoticed; and on PostgreSQL a
// statement on each moves the version exactly when it is memoized (a
// statement-level trigger fires even when no row matches).
func TestDataVersionCoversMemoizedTables(t *testing.T) {
	dbtest.EachURL(t, func(t *testing.T, dsn string) {
		ctx := t.Context()
		d := openAt(t, dsn)
		other := openAt(t, dsn)
		tables, err := d.Schema(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, table := range tables {
			memoized := slices.Contains(memoizedTables, table.Name)
			if memoized == slices.Contains(unmemoizedTables, table.Name) {
				t.Errorf("table %s: list it in exactly one of memoizedTables (and give it migration 00019's trigger) or unmemoizedTables", table.Name)
				continue
			}
			if d.Dialect() != db.Postgres {
				continue // PRAGMA data_version moves with every commit
			}
			before, err := d.Version(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := other.SQL().ExecContext(ctx, `DELETE FROM `+table.Name+` WHERE false`); err != nil {
				t.Fatal(err)
			}
			after, err := d.Version(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if moved := after != before; moved != memoized {
				t.Errorf("table %s (memoized: %v): a write moved the version: %v", table.Name, memoized, moved)
			}
		}
	})
}

// A Memo on one handle reloads after a write to a memoized table through
// another handle; on PostgreSQL it stays cached across the fleet's writes.
func TestMemoAcrossHandlesIgnoresFleetWrites(t *testing.T) {
	dbtest.EachURL(t, func(t *testing.T, dsn string) {
		ctx := t.Context()
		d := openAt(t, dsn)
		other := openAt(t, dsn)
		var memo db.Memo[string, int]
		loads := 0
		get := func() int {
			t.Helper()
			v, err := memo.Get(ctx, d, "k", func(context.Context) (int, error) { loads++; return loads, nil })
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		first := get()
		if _, err := other.CreateUser(ctx, "carol", "viewer", "x", nil); err != nil {
			t.Fatal(err)
		}
		if got := get(); got == first {
			t.Errorf("after another handle created a user: cached load #%d", got)
		}
		newToken(t, other, "web1", time.Now().Add(time.Hour))
		h, err := enroll(other, "web1", "web1", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		cached := get() // enrolling writes the audit log: a reload is right
		if _, err := other.UseNonce(ctx, h.ID, "n1", time.Now()); err != nil {
			t.Fatal(err)
		}
		got := get()
		switch pg := d.Dialect() == db.Postgres; {
		case pg && got != cached:
			t.Errorf("after a nonce insert: load #%d, want the cached #%d", got, cached)
		case !pg && got == cached:
			t.Errorf("SQLite after a nonce insert: cached load #%d, want a reload (data_version moves with any commit)", got)
		}
	})
}
