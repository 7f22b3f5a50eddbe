package db_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"portpanel/db"
	"portpanel/db/dbtest"
)

func TestOpenMigratesFreshFileAndReopens(t *testing.T) {
	dbtest.EachURL(t, testOpenMigratesAndReopens)
}

func testOpenMigratesAndReopens(t *testing.T, path string) {
	ctx := context.Background()
	d, err := db.Open(ctx, path)
	if err != nil {
		t.Fatalf("first open: %v", err)
	}
	schema, err := d.Schema(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"users", "tokens", "changes", "audit_events", "samples", "sessions",
		"usage_samples", "usage_hourly"} {
		if !slices.ContainsFunc(schema, func(tb db.Table) bool { return tb.Name == table }) {
			t.Errorf("table %s not created: %v", table, schema)
		}
	}
	if _, err := d.CreateUser(ctx, "alice", "admin", "h", nil); err != nil {
		t.Fatalf("create user: %v", err)
	}
	version := migrationVersion(t, d.SQL())
	if err := d.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}

	// A second open must find nothing to do and keep the data.
	d, err = db.Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer d.Close()
	if got := migrationVersion(t, d.SQL()); got != version {
		t.Errorf("migration version after reopen = %d, want %d", got, version)
	}
	if n, err := d.CountUsers(ctx); err != nil || n != 1 {
		t.Errorf("users after reopen = %d, %v; want 1", n, err)
	}
}

func migrationVersion(t *testing.T, s *sql.DB) int64 {
	t.Helper()
	var v int64
	var rows, versions int
	if err := s.QueryRow(`SELECT MAX(version_id), COUNT(*), COUNT(DISTINCT version_id) FROM goose_db_version`).Scan(&v, &rows, &versions); err != nil {
		t.Fatalf("read goose version: %v", err)
	}
	// Versions are allocated to features, so the sequence may have gaps
	// (issue 19 numbered its migrations ahead); each runs once.
	if rows != versions {
		t.Errorf("goose_db_version has %d rows for %d versions: a migration ran twice?", rows, versions)
	}
	return v
}

// SQLite only: PostgreSQL has no pragmas.
func TestPragmasOnEveryPooledConnection(t *testing.T) {
	func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		// Hold several connections at once so the pool must open new ones:
		// pragmas set by Exec would only reach one of them.
		var conns []*sql.Conn
		for range 4 {
			c, err := d.SQL().Conn(ctx)
			if err != nil {
				t.Fatalf("get connection: %v", err)
			}
			defer c.Close()
			conns = append(conns, c)
		}
		tests := []struct {
			pragma string
			want   string
		}{
			{"journal_mode", "wal"},
			{"foreign_keys", "1"},
			{"busy_timeout", "5000"},
			{"synchronous", "2"}, // FULL
		}
		for i, c := range conns {
			for _, tt := range tests {
				var got string
				if err := c.QueryRowContext(ctx, "PRAGMA "+tt.pragma).Scan(&got); err != nil {
					t.Fatalf("conn %d: PRAGMA %s: %v", i, tt.pragma, err)
				}
				if got != tt.want {
					t.Errorf("conn %d: PRAGMA %s = %q, want %q", i, tt.pragma, got, tt.want)
				}
			}
		}
	}(t, dbtest.Open(t))
}

func TestOpenPathsThatNeedEscaping(t *testing.T) {
	for _, name := range []string{"plain.db", "with space.db", "what?.db", "hash#.db", "pct%41.db"} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, name)
			d, err := db.Open(context.Background(), path)
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			defer d.Close()
			var file string
			if err := d.SQL().QueryRow(`SELECT file FROM pragma_database_list WHERE name = 'main'`).Scan(&file); err != nil {
				t.Fatalf("database_list: %v", err)
			}
			if file != path {
				t.Errorf("database file = %q, want %q", file, path)
			}
		})
	}
}

func TestPing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		if err := d.Ping(context.Background()); err != nil {
			t.Fatalf("ping: %v", err)
		}
	})
}

// TestTimeArgumentsReadableBySQLite guards the _time_format=sqlite DSN
// option: without it modernc binds time.Time as Go's String() form, which
// julianday() reads as NULL.
// SQLite only: julianday() is SQLite's.
func TestTimeArgumentsReadableBySQLite(t *testing.T) {
	func(t *testing.T, d *db.DB) {
		at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
		var jd sql.NullFloat64
		if err := d.SQL().QueryRow(`SELECT julianday(?)`, at).Scan(&jd); err != nil {
			t.Fatalf("julianday: %v", err)
		}
		const want = 2461103.7125810185 // julianday('2026-03-04 05:06:07')
		if !jd.Valid || jd.Float64 < want-1e-6 || jd.Float64 > want+1e-6 {
			t.Errorf("julianday(%v) = %+v, want %v", at, jd, want)
		}
	}(t, dbtest.Open(t))
}
