package db_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/alexedwards/scs/sqlite3store"

	"portpanel/db/dbtest"
)

// TestSessionStoreOnSQL runs scs's SQLite store against SQL(): the table
// comes from our migration and expiry goes through julianday().
func TestSessionStoreOnSQL(t *testing.T) {
	d := dbtest.Open(t)
	store := sqlite3store.NewWithCleanupInterval(d.SQL(), 0)
	tests := []struct {
		name   string
		token  string
		expiry time.Time
		found  bool
	}{
		{name: "live session is found", token: "live", expiry: time.Now().Add(time.Hour), found: true},
		{name: "expired session is not", token: "expired", expiry: time.Now().Add(-time.Minute), found: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := []byte("data of " + tt.token)
			if err := store.Commit(tt.token, data, tt.expiry); err != nil {
				t.Fatalf("Commit: %v", err)
			}
			got, found, err := store.Find(tt.token)
			if err != nil {
				t.Fatalf("Find: %v", err)
			}
			if found != tt.found || (found && !bytes.Equal(got, data)) {
				t.Errorf("Find(%q) = %q, %v; want found=%v with the committed data", tt.token, got, found, tt.found)
			}
			var stored time.Time
			var unix float64
			err = d.SQL().QueryRow(`SELECT (expiry - 2440587.5) * 86400 FROM sessions WHERE token = ?`, tt.token).Scan(&unix)
			if err != nil {
				t.Fatalf("read expiry: %v", err)
			}
			stored = time.Unix(0, int64(unix*1e9))
			// julianday() keeps milliseconds (it truncates the rest) and the
			// REAL adds ~40 µs of rounding at today's day numbers: 2 ms is
			// the honest bound; 1 ms failed now and then.
			if d := stored.Sub(tt.expiry); d > 2*time.Millisecond || d < -2*time.Millisecond {
				t.Errorf("stored expiry %v, want %v", stored, tt.expiry)
			}
		})
	}
	if err := store.Delete("live"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, found, err := store.Find("live"); err != nil || found {
		t.Errorf("Find after Delete = %v, %v; want not found", found, err)
	}
}
