package db

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// CreateToken stores an API token for userID with its owner's role and no
// expiry. hash is the SHA-256 of the secret; the secret itself is never
// stored. It returns ErrConflict if the hash is already stored.
func (d *DB) CreateToken(ctx context.Context, userID int64, name string, hash []byte) (Token, error) {
	return d.AddToken(ctx, Token{UserID: userID, Name: name}, hash, nil)
}

// AddToken stores t (user, name, role, expiry) under hash and, in the same
// transaction, the audit event that audit returns for the stored token
// (with its ID), unless audit is nil: a token never exists unrecorded. It
// returns the token as stored, or ErrConflict if the hash is already
// stored.
func (d *DB) AddToken(ctx context.Context, t Token, hash []byte, audit func(Token) AuditEvent) (Token, error) {
	if len(hash) == 0 {
		return Token{}, fmt.Errorf("create token %q: empty hash", t.Name)
	}
	tx, err := d.sql.BeginTx(ctx, nil)
	if err != nil {
		return Token{}, fmt.Errorf("create token %q: begin: %w", t.Name, err)
	}
	defer tx.Rollback()
	t.CreatedAt, t.LastUsedAt = now(), nil
	err = tx.QueryRowContext(ctx,
		`INSERT INTO tokens (user_id, name, role, hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		t.UserID, t.Name, t.Role, hash, toMS(t.CreatedAt), msOrNil(t.ExpiresAt)).Scan(&t.ID)
	if isUniqueViolation(err) {
		return Token{}, fmt.Errorf("create token %q: %w", t.Name, ErrConflict)
	}
	if err != nil {
		return Token{}, fmt.Errorf("create token %q for user %d: %w", t.Name, t.UserID, err)
	}
	t.ExpiresAt = normTime(t.ExpiresAt)
	if audit != nil {
		if _, err := d.appendEvent(ctx, tx, Recorded{Event: audit(t)}); err != nil {
			return Token{}, fmt.Errorf("create token %q: %w", t.Name, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return Token{}, fmt.Errorf("create token %q: commit: %w", t.Name, err)
	}
	return t, nil
}

// RevokeToken deletes token id and, in the same transaction, appends the
// audit event that audit returns for the deleted token, unless audit is
// nil. The token row goes; the audit log keeps the record. It returns the
// deleted token, or ErrNotFound.
func (d *DB) RevokeToken(ctx context.Context, id int64, audit func(Token) AuditEvent) (Token, error) {
	tx, err := d.sql.BeginTx(ctx, nil)
	if err != nil {
		return Token{}, fmt.Errorf("revoke token %d: begin: %w", id, err)
	}
	defer tx.Rollback()
	t, err := scanToken(tx.QueryRowContext(ctx,
		`DELETE FROM tokens WHERE id = $1 RETURNING `+tokenColumns, id))
	if err != nil {
		return Token{}, notFound(err, "token %d", id)
	}
	if audit != nil {
		if _, err := d.appendEvent(ctx, tx, Recorded{Event: audit(t)}); err != nil {
			return Token{}, fmt.Errorf("revoke token %d: %w", id, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return Token{}, fmt.Errorf("revoke token %d: commit: %w", id, err)
	}
	return t, nil
}

// UserByTokenHash returns the token whose hash is given and its user, or
// ErrNotFound. It only reads: whether the token may still be used (expiry,
// owner disabled) is the caller's decision, and TokenUsed records a use.
//
// Every API request asks, so the answer is cached until the next commit
// (see Memo); unknown tokens are not cached.
func (d *DB) UserByTokenHash(ctx context.Context, hash []byte) (User, Token, error) {
	got, err := d.memo.tokens.Get(ctx, d, string(hash), func(ctx context.Context) (tokenOwner, error) {
		u, t, err := d.userByTokenHash(ctx, hash)
		return tokenOwner{u, t}, err
	})
	return got.user, got.token, err
}

type tokenOwner struct {
	user  User
	token Token
}

func (d *DB) userByTokenHash(ctx context.Context, hash []byte) (User, Token, error) {
	t, err := scanToken(d.sql.QueryRowContext(ctx,
		`SELECT `+tokenColumns+` FROM tokens WHERE hash = $1`, hash))
	if err != nil {
		return User{}, Token{}, notFound(err, "token")
	}
	// A second statement, not a transaction: BEGIN takes the write lock
	// (_txlock=immediate), which every API request would then queue for.
	// The owner deleted in between cascades the token away, which the
	// ErrNotFound below reports as an unknown token.
	u, err := userByID(ctx, d.sql, t.UserID)
	if err != nil {
		return User{}, Token{}, fmt.Errorf("look up token %d: %w", t.ID, err)
	}
	return u, t, nil
}

// TokenUseInterval is how stale a token's last-used time may get: it is
// written at most this often, so a busy script does not turn every API
// read into a database write.
const TokenUseInterval = time.Minute

// TokenUsed records that token id was used at, unless a use less than
// TokenUseInterval before is already recorded.
func (d *DB) TokenUsed(ctx context.Context, id int64, at time.Time) error {
	_, err := d.sql.ExecContext(ctx,
		`UPDATE tokens SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at <= $3)`,
		toMS(at), id, toMS(at.Add(-TokenUseInterval)))
	if err != nil {
		return fmt.Errorf("record use of token %d: %w", id, err)
	}
	return nil
}

// Token returns token id with its owner, or ErrNotFound.
func (d *DB) Token(ctx context.Context, id int64) (OwnedToken, error) {
	t, err := scanOwnedToken(d.sql.QueryRowContext(ctx, ownedTokens+` WHERE t.id = $1`, id))
	return t, notFound(err, "token %d", id)
}

// Tokens returns userID's tokens, newest first.
func (d *DB) Tokens(ctx context.Context, userID int64) ([]OwnedToken, error) {
	rows, err := d.sql.QueryContext(ctx, ownedTokens+` WHERE t.user_id = $1 ORDER BY t.id DESC`, userID)
	if err != nil {
		return nil, fmt.Errorf("list tokens of user %d: %w", userID, err)
	}
	return collect(rows, scanOwnedToken, "list tokens")
}

// AllTokens returns every user's tokens, newest first, for admins.
func (d *DB) AllTokens(ctx context.Context) ([]OwnedToken, error) {
	rows, err := d.sql.QueryContext(ctx, ownedTokens+` ORDER BY t.id DESC`)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return collect(rows, scanOwnedToken, "list tokens")
}

const tokenColumns = `id, user_id, name, role, created_at, expires_at, last_used_at`

// ownedTokens selects tokens with their owner's name and role; the hash is
// never read back.
const ownedTokens = `SELECT t.id, t.user_id, t.name, t.role, t.created_at, t.expires_at, t.last_used_at,
	u.name, u.role, u.disabled FROM tokens t JOIN users u ON u.id = t.user_id`

func scanToken(row interface{ Scan(...any) error }) (Token, error) {
	return scanTokenAnd(row)
}

func scanOwnedToken(row interface{ Scan(...any) error }) (OwnedToken, error) {
	var o OwnedToken
	var err error
	o.Token, err = scanTokenAnd(row, &o.Owner, &o.OwnerRole, &o.OwnerDisabled)
	return o, err
}

// scanTokenAnd scans tokenColumns followed by the columns into more.
func scanTokenAnd(row interface{ Scan(...any) error }, more ...any) (Token, error) {
	var t Token
	var created int64
	var expires, used sql.NullInt64
	dest := append([]any{&t.ID, &t.UserID, &t.Name, &t.Role, &created, &expires, &used}, more...)
	if err := row.Scan(dest...); err != nil {
		return Token{}, err
	}
	t.CreatedAt, t.ExpiresAt, t.LastUsedAt = fromMS(created), timeOrNil(expires), timeOrNil(used)
	return t, nil
}
