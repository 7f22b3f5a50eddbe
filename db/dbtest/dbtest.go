// Package dbtest opens throwaway portpanel databases for tests.
package dbtest

import (
	"context"
	"path/filepath"
	"testing"

	"portpanel/db"
)

// Open returns a migrated database in a fresh temporary file (not
// :memory:, so WAL, locking and several connections behave as in
// production). It is closed when the test ends.
func Open(t testing.TB) *db.DB {
	t.Helper()
	d, err := db.Open(context.Background(), filepath.Join(t.TempDir(), "portpanel.db"))
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
