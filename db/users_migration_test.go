package db

import (
	"context"
	"testing"

	"github.com/pressly/goose/v3"
)

// TestUserSecurityMigration: users from before version 5 stay enabled,
// need no new password, changed it when the account was created, and
// keep their sessions (epoch 0); the migration goes down and up again.
func TestUserSecurityMigration(t *testing.T) {
	ctx := context.Background()
	eachAt(t, 4, func(t *testing.T, d *DB, p *goose.Provider) {
		id := rawUser(t, d, "dave", "admin")
		if _, err := p.UpTo(ctx, 5); err != nil {
			t.Fatalf("migrate to 5: %v", err)
		}
		u, err := d.UserByID(ctx, id)
		if err != nil {
			t.Fatalf("read the old user: %v", err)
		}
		if u.Disabled || u.MustChangePassword || u.SessionEpoch != 0 || !u.PasswordChangedAt.Equal(fromMS(1000)) || !u.PasswordChangedAt.Equal(u.CreatedAt) {
			t.Errorf("old user after the migration = %+v; want enabled, no forced change, epoch 0, password changed at creation", u)
		}
		if _, err := d.sql.Exec(`UPDATE users SET disabled = 2 WHERE id = $1`, id); err == nil {
			t.Error("disabled = 2 accepted: the column has no CHECK")
		}
		if _, err := p.DownTo(ctx, 4); err != nil {
			t.Fatalf("migrate down to 4: %v", err)
		}
		schema, err := d.Schema(ctx)
		for _, tb := range schema {
			if tb.Name == "users" && len(tb.Columns) != 5 {
				t.Errorf("users has columns %v after down, want the 5 of version 4", tb.Columns)
			}
		}
		if err != nil {
			t.Error(err)
		}
		if _, err := p.Up(ctx); err != nil {
			t.Fatalf("migrate up again: %v", err)
		}
		if _, err := d.SetDisabled(ctx, id, false, nil); err != nil {
			t.Errorf("SetDisabled after down and up: %v", err)
		}
	})
}
