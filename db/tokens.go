package db

import (
	"context"
	"database/sql"
	"fmt"
)

// CreateToken stores an API token for userID. hash is the SHA-256 of the
// secret; the secret itself is never stored. It returns ErrConflict if the
// hash is already stored.
func (d *DB) CreateToken(ctx context.Context, userID int64, name string, hash []byte) (Token, error) {
	if len(hash) == 0 {
		return Token{}, fmt.Errorf("create token %q: empty hash", name)
	}
	t := Token{UserID: userID, Name: name, CreatedAt: now()}
	err := d.sql.QueryRowContext(ctx,
		`INSERT INTO tokens (user_id, name, hash, created_at) VALUES (?, ?, ?, ?) RETURNING id`,
		userID, name, hash, toMS(t.CreatedAt)).Scan(&t.ID)
	if isUniqueViolation(err) {
		return Token{}, fmt.Errorf("create token %q: %w", name, ErrConflict)
	}
	if err != nil {
		return Token{}, fmt.Errorf("create token %q for user %d: %w", name, userID, err)
	}
	return t, nil
}

// UserByTokenHash returns the token whose hash is given and its user, or
// ErrNotFound, and records that the token was used now.
func (d *DB) UserByTokenHash(ctx context.Context, hash []byte) (User, Token, error) {
	// One transaction so the token read and its user belong together.
	tx, err := d.sql.BeginTx(ctx, nil)
	if err != nil {
		return User{}, Token{}, fmt.Errorf("look up token: begin: %w", err)
	}
	defer tx.Rollback()

	var t Token
	var created int64
	var used sql.NullInt64
	err = tx.QueryRowContext(ctx,
		`UPDATE tokens SET last_used_at = ? WHERE hash = ?
		 RETURNING id, user_id, name, created_at, last_used_at`,
		toMS(now()), hash).Scan(&t.ID, &t.UserID, &t.Name, &created, &used)
	if err != nil {
		return User{}, Token{}, notFound(err, "token")
	}
	t.CreatedAt = fromMS(created)
	if used.Valid {
		at := fromMS(used.Int64)
		t.LastUsedAt = &at
	}
	u, err := userByID(ctx, tx, t.UserID)
	if err != nil {
		return User{}, Token{}, fmt.Errorf("look up token %d: %w", t.ID, err)
	}
	if err := tx.Commit(); err != nil {
		return User{}, Token{}, fmt.Errorf("look up token %d: commit: %w", t.ID, err)
	}
	return u, t, nil
}
