package db

// Internal tests: they stop migrations part way, which only the package's
// own goose Provider can do.

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pressly/goose/v3"

	"portpanel/db/dbtest/pgtest"
)

// eachAt runs fn on each store (as dbtest.Each, which package db's own
// tests cannot import) with a fresh database migrated up to version only,
// and the Provider to migrate it further.
func eachAt(t *testing.T, version int64, fn func(t *testing.T, d *DB, p *goose.Provider)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "portpanel.db")
		sqlDB, err := sql.Open("sqlite", "file:"+escapePath(path)+"?"+dsnOptions)
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		d, p := migratedTo(t, sqlDB, SQLite, version)
		fn(t, d, p)
	})
	t.Run("postgres", func(t *testing.T) {
		sqlDB, err := postgresPool(pgtest.Database(t))
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		d, p := migratedTo(t, sqlDB, Postgres, version)
		fn(t, d, p)
	})
}

func migratedTo(t *testing.T, sqlDB *sql.DB, dialect Dialect, version int64) (*DB, *goose.Provider) {
	t.Helper()
	t.Cleanup(func() { sqlDB.Close() })
	p, err := newMigrator(context.Background(), sqlDB, dialect)
	if err != nil {
		t.Fatalf("migrator: %v", err)
	}
	if _, err := p.UpTo(context.Background(), version); err != nil {
		t.Fatalf("migrate to version %d: %v", version, err)
	}
	return &DB{sql: sqlDB, dialect: dialect}, p
}

// rawUser and rawToken insert rows with the columns of version 1 only, so
// they work at any version: the methods of today write the columns of the
// latest one.
func rawUser(t *testing.T, d *DB, name, role string) int64 {
	t.Helper()
	var id int64
	err := d.sql.QueryRow(`INSERT INTO users (name, role, password_hash, created_at)
		VALUES ($1, $2, 'h', 1000) RETURNING id`, name, role).Scan(&id)
	if err != nil {
		t.Fatalf("insert user %s: %v", name, err)
	}
	return id
}

func rawToken(t *testing.T, d *DB, userID int64, name string, hash []byte) int64 {
	t.Helper()
	var id int64
	err := d.sql.QueryRow(`INSERT INTO tokens (user_id, name, hash, created_at)
		VALUES ($1, $2, $3, 1000) RETURNING id`, userID, name, hash).Scan(&id)
	if err != nil {
		t.Fatalf("insert token %s: %v", name, err)
	}
	return id
}

// insertRole tries a raw insert, around CreateUser, to probe the CHECK.
func insertRole(d *DB, name, role string) error {
	_, err := d.sql.Exec(`INSERT INTO users (name, role, password_hash, created_at) VALUES ($1, $2, '', 0)`, name, role)
	return err
}

// requireForeignKeysOnPool fails unless every pooled connection enforces
// foreign keys. It holds as many connections as the pool has open at
// once, so it gets each of them (database/sql hands out idle ones first).
func requireForeignKeysOnPool(t *testing.T, d *DB) {
	t.Helper()
	if d.dialect == Postgres {
		return // PostgreSQL always enforces them; SQLite's rebuild turns them off
	}
	ctx := context.Background()
	n := d.sql.Stats().OpenConnections
	if n < 2 {
		t.Fatalf("pool has %d open connections, want the migration's and goose's", n)
	}
	for i := range n {
		c, err := d.sql.Conn(ctx)
		if err != nil {
			t.Fatalf("conn %d: %v", i, err)
		}
		defer c.Close()
		var on int
		if err := c.QueryRowContext(ctx, `PRAGMA foreign_keys`).Scan(&on); err != nil || on != 1 {
			t.Errorf("pooled conn %d: foreign_keys = %d (%v), want 1", i, on, err)
		}
	}
}

func TestRolesMigrationKeepsTokens(t *testing.T) {
	ctx := context.Background()
	eachAt(t, 2, func(t *testing.T, d *DB, p *goose.Provider) {
		if err := insertRole(d, "early", "approver"); err == nil {
			t.Fatal("approver accepted at version 2: the test no longer starts from the old CHECK")
		}
		u := User{ID: rawUser(t, d, "alice", "operator")}
		hash := sha256.Sum256([]byte("secret"))
		tok := Token{ID: rawToken(t, d, u.ID, "ci", hash[:])}

		if _, err := p.Up(ctx); err != nil {
			t.Fatalf("migrate to latest: %v", err)
		}
		gotU, gotT, err := d.UserByTokenHash(ctx, hash[:])
		if err != nil || gotU.ID != u.ID || gotU.Name != "alice" || gotT.ID != tok.ID {
			t.Fatalf("UserByTokenHash after the migration = %+v, %+v, %v; want alice's token %d", gotU, gotT, err, tok.ID)
		}
		if err := insertRole(d, "late", "approver"); err != nil {
			t.Errorf("approver refused after the migration: %v", err)
		}
		requireForeignKeysOnPool(t, d)
		// tokens must still reference the rebuilt users table, cascade and all.
		if _, err := d.sql.Exec(`DELETE FROM users WHERE id = $1`, u.ID); err != nil {
			t.Fatalf("delete user: %v", err)
		}
		var n int
		if err := d.sql.QueryRow(`SELECT COUNT(*) FROM tokens`).Scan(&n); err != nil || n != 0 {
			t.Errorf("%d tokens (%v) after deleting their user, want 0 (ON DELETE CASCADE)", n, err)
		}
	})
}

func TestSafeChangeMigrationKeepsOldChanges(t *testing.T) {
	ctx := context.Background()
	eachAt(t, 1, func(t *testing.T, d *DB, p *goose.Provider) {
		_, err := d.sql.Exec(`INSERT INTO changes (id, status, low, high, before_low, before_high, reason,
		user_id, user_name, created_at, file, diff, error, warnings, file_existed, file_after_hash)
		VALUES (1, 'applied', 20000, 60999, 32768, 60999, 'r', 1, 'alice', 1000, '/f', '', '', '["w"]', 0, 'h')`)
		if err != nil {
			t.Fatalf("insert a version 1 change: %v", err)
		}
		if _, err := p.Up(ctx); err != nil {
			t.Fatalf("migrate to latest: %v", err)
		}
		c, err := d.Change(ctx, 1)
		if err != nil {
			t.Fatalf("read the old change: %v", err)
		}
		if !c.UpdatedAt.Equal(fromMS(1000)) || c.Notes != nil || c.FileAfter != nil || c.RemoveFile ||
			c.ConfirmWithin != 0 || c.ConfirmBy != nil || c.DecidedAt != nil || c.ConfirmedAt != nil ||
			c.Emergency || c.Status != StatusApplied || len(c.Warnings) != 1 {
			t.Errorf("old change after the migration = %+v; want updated at its creation and no new field set", c)
		}
	})
}

// TestMigrationsDownAndUp: the Down migrations work, keep tokens, and make
// approvers operators (the old schema has no approver; operator grants
// nothing more).
func TestMigrationsDownAndUp(t *testing.T) {
	ctx := context.Background()
	eachAt(t, 3, func(t *testing.T, d *DB, p *goose.Provider) {
		id := rawUser(t, d, "bob", "approver")
		hash := sha256.Sum256([]byte("secret"))
		rawToken(t, d, id, "ci", hash[:])
		if _, err := p.DownTo(ctx, 1); err != nil {
			t.Fatalf("migrate down to 1: %v", err)
		}
		// Raw SQL: the methods of today read columns of later versions.
		var name, role string
		err := d.sql.QueryRow(`SELECT u.name, u.role FROM tokens t JOIN users u ON u.id = t.user_id
		WHERE t.hash = $1`, hash[:]).Scan(&name, &role)
		if err != nil || name != "bob" || role != "operator" {
			t.Errorf("after down: token's user %q, %q, %v; want bob, now operator", name, role, err)
		}
		requireForeignKeysOnPool(t, d)
		if _, err := p.Up(ctx); err != nil {
			t.Fatalf("migrate up again: %v", err)
		}
		if _, _, err := d.RecordChange(ctx, Change{Status: StatusProposed, Notes: []string{"n"}},
			AuditEvent{Action: "change.proposed"}, nil); err != nil {
			t.Errorf("RecordChange after down and up: %v", err)
		}
	})
}

// TestUsageMigrationDownAndUp: version 4 goes down to 3 without touching
// the rest, and comes back usable.
func TestUsageMigrationDownAndUp(t *testing.T) {
	ctx := context.Background()
	eachAt(t, 4, func(t *testing.T, d *DB, p *goose.Provider) {
		if _, err := d.InsertUsage(ctx, UsageSample{Source: UsageSourceProc}); err != nil {
			t.Fatalf("insert usage at version 4: %v", err)
		}
		rawUser(t, d, "carol", "approver")
		if _, err := p.DownTo(ctx, 3); err != nil {
			t.Fatalf("migrate down to 3: %v", err)
		}
		var n int
		schema, err := d.Schema(ctx)
		for _, tb := range schema {
			if strings.HasPrefix(tb.Name, "usage") {
				n++
			}
		}
		if err != nil || n != 0 {
			t.Errorf("%d usage tables (%v) after down, want 0", n, err)
		}
		var role string
		if err := d.sql.QueryRow(`SELECT role FROM users WHERE name = 'carol'`).Scan(&role); err != nil || role != "approver" {
			t.Errorf("carol's role after down = %q, %v; want still approver", role, err)
		}
		if _, err := p.Up(ctx); err != nil {
			t.Fatalf("migrate up again: %v", err)
		}
		if _, err := d.InsertUsage(ctx, UsageSample{Source: UsageSourceNetlink}); err != nil {
			t.Errorf("InsertUsage after down and up: %v", err)
		}
	})
}
