package db_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"portpanel/db"
	"portpanel/db/dbtest"
)

// TestSessionStore stores, finds and deletes sessions the way scs does,
// with expiry through julianday() as scs's own sqlite3store wrote it.
func TestSessionStore(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		store := d.Sessions()
		ctx := t.Context()
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
				if err := store.CommitCtx(ctx, tt.token, data, tt.expiry); err != nil {
					t.Fatalf("Commit: %v", err)
				}
				got, found, err := store.FindCtx(ctx, tt.token)
				if err != nil {
					t.Fatalf("Find: %v", err)
				}
				if found != tt.found || (found && !bytes.Equal(got, data)) {
					t.Errorf("Find(%q) = %q, %v; want found=%v with the committed data", tt.token, got, found, tt.found)
				}
				var unix float64
				err = d.SQL().QueryRow(`SELECT (expiry - 2440587.5) * 86400 FROM sessions WHERE token = $1`, tt.token).Scan(&unix)
				if err != nil {
					t.Fatalf("read expiry: %v", err)
				}
				stored := time.Unix(0, int64(unix*1e9))
				// julianday() keeps milliseconds (it truncates the rest) and the
				// REAL adds ~40 µs of rounding at today's day numbers: 2 ms is
				// the honest bound; 1 ms failed now and then.
				if d := stored.Sub(tt.expiry); d > 2*time.Millisecond || d < -2*time.Millisecond {
					t.Errorf("stored expiry %v, want %v", stored, tt.expiry)
				}
			})
		}
		if err := store.DeleteCtx(ctx, "live"); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		if _, found, err := store.FindCtx(ctx, "live"); err != nil || found {
			t.Errorf("Find after Delete = %v, %v; want not found", found, err)
		}
		if n, err := store.DeleteExpiredSessions(ctx); err != nil || n != 1 {
			t.Errorf("DeleteExpiredSessions = %d, %v; want the 1 expired session", n, err)
		}
	})
}

// A session found once is served from memory, but not past its expiry,
// nor once another process deleted it (`portpanel user disable` from a
// shell ends the user's sessions).
func TestSessionStoreCacheEnds(t *testing.T) {
	dbtest.EachURL(t, func(t *testing.T, path string) {
		ctx := t.Context()
		d := openAt(t, path)
		other := openAt(t, path) // another process, as far as the store can tell
		store := d.Sessions()

		if err := store.CommitCtx(ctx, "short", []byte("x"), time.Now().Add(300*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		if _, found, err := store.FindCtx(ctx, "short"); err != nil || !found {
			t.Fatalf("Find right after Commit = %v, %v; want found", found, err)
		}
		time.Sleep(400 * time.Millisecond)
		if _, found, err := store.FindCtx(ctx, "short"); err != nil || found {
			t.Errorf("Find past expiry, nothing committed since = %v, %v; want not found", found, err)
		}

		if err := store.CommitCtx(ctx, "long", []byte("y"), time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if _, found, _ := store.FindCtx(ctx, "long"); !found {
			t.Fatal("Find after Commit: not found")
		}
		if err := other.Sessions().DeleteCtx(ctx, "long"); err != nil {
			t.Fatal(err)
		}
		if _, found, err := store.FindCtx(ctx, "long"); err != nil || found {
			t.Errorf("Find right after another process deleted the session = %v, %v; want not found", found, err)
		}
	})
}

func openAt(t *testing.T, path string) *db.DB {
	t.Helper()
	d, err := db.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}
