package dbtest

import (
	"context"
	"testing"

	"portpanel/db"
	"portpanel/db/dbtest/pgtest"
)

// Each runs fn as two subtests, "sqlite" and "postgres", each with a
// fresh migrated database of that store: every db test runs against both
// (issue 19). The PostgreSQL one is a new database in the cluster
// PORTPANEL_TEST_PG names; without it that half is skipped with the
// reason, and fails under CI=true (pgtest.Skip).
func Each(t *testing.T, fn func(t *testing.T, d *db.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, Open(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, OpenPostgres(t)) })
}

// EachURL is Each for tests that open the database themselves (several
// handles on one database, a reopen): fn gets what db.Open takes, a
// SQLite path or a PostgreSQL URL, of a fresh database not yet opened.
func EachURL(t *testing.T, fn func(t *testing.T, dsn string)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, Path(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, pgtest.Database(t)) })
}

// OpenPostgres returns a migrated database in a fresh PostgreSQL database
// of the test cluster, closed (then dropped) when the test ends.
func OpenPostgres(t testing.TB) *db.DB {
	t.Helper()
	return openDSN(t, pgtest.Database(t))
}

// OpenDSN opens dsn (a SQLite path or a PostgreSQL URL) with db.Open and
// closes it when the test ends.
func OpenDSN(t testing.TB, dsn string) *db.DB {
	t.Helper()
	return openDSN(t, dsn)
}

func openDSN(t testing.TB, dsn string) *db.DB {
	t.Helper()
	d, err := db.Open(context.Background(), dsn)
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Errorf("close test database: %v", err)
		}
	})
	return d
}

// EachStore is Each for tests that open several databases (one per
// subtest): fn gets open, which returns a fresh migrated database of the
// store the run is for.
func EachStore(t *testing.T, fn func(t *testing.T, open func(testing.TB) *db.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, Open) })
	t.Run("postgres", func(t *testing.T) { fn(t, OpenPostgres) })
}
