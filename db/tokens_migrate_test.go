package db

import (
	"context"
	"crypto/sha256"
	"testing"

	"github.com/pressly/goose/v3"
)

// TestTokenRolesMigration: a token from before version 6 keeps working
// with its owner's role and no expiry, and version 6 goes down and up.
func TestTokenRolesMigration(t *testing.T) {
	ctx := context.Background()
	eachAt(t, 5, func(t *testing.T, d *DB, p *goose.Provider) {
		uid := rawUser(t, d, "alice", "operator")
		hash := sha256.Sum256([]byte("secret"))
		id := rawToken(t, d, uid, "old", hash[:])

		if _, err := p.UpTo(ctx, 6); err != nil {
			t.Fatalf("migrate to 6: %v", err)
		}
		tok, err := d.Token(ctx, id)
		if err != nil || tok.Role != "" || tok.ExpiresAt != nil || tok.Owner != "alice" || tok.OwnerRole != "operator" {
			t.Fatalf("old token after the migration = %+v, %v; want role \"\" (its owner's), no expiry", tok, err)
		}
		if _, got, err := d.UserByTokenHash(ctx, hash[:]); err != nil || got.ID != id {
			t.Fatalf("old token no longer found: %+v, %v", got, err)
		}

		if _, err := p.DownTo(ctx, 5); err != nil {
			t.Fatalf("migrate down to 5: %v", err)
		}
		var n int
		if err := d.sql.QueryRow(`SELECT COUNT(*) FROM tokens WHERE id = $1`, id).Scan(&n); err != nil || n != 1 {
			t.Errorf("%d tokens (%v) after down, want the old one kept", n, err)
		}
		if _, err := p.Up(ctx); err != nil {
			t.Fatalf("migrate up again: %v", err)
		}
		if _, err := d.Token(ctx, id); err != nil {
			t.Errorf("old token after down and up: %v", err)
		}
	})
}
