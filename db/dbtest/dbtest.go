// Package dbtest opens throwaway portpanel databases for tests.
package dbtest

import (
	"path/filepath"
	"testing"

	"portpanel/db"
)

// Open returns a migrated SQLite database in a fresh temporary file (not
// :memory:, so WAL, locking and several connections behave as in
// production). It is closed when the test ends. Each runs a test on
// PostgreSQL as well.
func Open(t testing.TB) *db.DB {
	t.Helper()
	return openDSN(t, Path(t))
}

// Path returns the path of a SQLite database file not yet created, in a
// directory removed when the test ends.
func Path(t testing.TB) string {
	return filepath.Join(t.TempDir(), "portpanel.db")
}
