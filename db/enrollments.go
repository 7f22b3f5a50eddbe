package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// EnrollmentToken is a one-time token that enrolls one host into Group.
// Only the SHA-256 of the token is stored; the token is shown once.
type EnrollmentToken struct {
	ID        int64
	Group     string
	CreatedBy string
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    *time.Time
	UsedBy    string // the host it enrolled, once used
	RevokedAt *time.Time
}

// Refusal reasons of an enrollment (EnrollRefusedError.Reason).
const (
	RefusedUnknown = "unknown token"
	RefusedUsed    = "token already used"
	RefusedExpired = "token expired"
	RefusedRevoked = "token revoked"
)

// EnrollRefusedError says why a token did not enroll a host. The token
// itself is never part of it, so it can be logged and audited.
type EnrollRefusedError struct {
	Reason  string
	TokenID int64 // 0 when the token is unknown
}

func (e *EnrollRefusedError) Error() string { return "enrollment refused: " + e.Reason }

const enrollmentColumns = `id, group_name, created_by, created_at, expires_at, used_at, used_by, revoked_at`

func scanEnrollment(row interface{ Scan(...any) error }) (EnrollmentToken, error) {
	var t EnrollmentToken
	var created, expires int64
	var used, revoked sql.NullInt64
	var usedBy sql.NullString
	if err := row.Scan(&t.ID, &t.Group, &t.CreatedBy, &created, &expires, &used, &usedBy, &revoked); err != nil {
		return EnrollmentToken{}, err
	}
	t.CreatedAt, t.ExpiresAt = fromMS(created), fromMS(expires)
	t.UsedAt, t.RevokedAt, t.UsedBy = timeOrNil(used), timeOrNil(revoked), usedBy.String
	return t, nil
}

// CreateEnrollmentToken stores t (group, creator, expiry; CreatedAt zero
// means now) under hash, with the audit event audit returns for it in the
// same transaction (audit may be nil). It returns the token as stored.
func (d *DB) CreateEnrollmentToken(ctx context.Context, t EnrollmentToken, hash []byte, audit func(EnrollmentToken) AuditEvent) (EnrollmentToken, error) {
	if len(hash) == 0 {
		return EnrollmentToken{}, errors.New("create enrollment token: empty hash")
	}
	tx, err := d.sql.BeginTx(ctx, nil)
	if err != nil {
		return EnrollmentToken{}, fmt.Errorf("create enrollment token: begin: %w", err)
	}
	defer tx.Rollback()
	t.CreatedAt, t.ExpiresAt = orNow(t.CreatedAt), fromMS(toMS(t.ExpiresAt))
	t.UsedAt, t.UsedBy, t.RevokedAt = nil, "", nil
	err = tx.QueryRowContext(ctx, `INSERT INTO enrollment_tokens (hash, group_name, created_by, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5) RETURNING id`,
		hash, t.Group, t.CreatedBy, toMS(t.CreatedAt), toMS(t.ExpiresAt)).Scan(&t.ID)
	if err != nil {
		return EnrollmentToken{}, fmt.Errorf("create enrollment token for group %q: %w", t.Group, err)
	}
	if err := auditIn(ctx, d, tx, audit, t); err != nil {
		return EnrollmentToken{}, fmt.Errorf("create enrollment token: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return EnrollmentToken{}, fmt.Errorf("create enrollment token: commit: %w", err)
	}
	return t, nil
}

// auditIn appends the event audit returns for v in tx, unless audit is nil.
func auditIn[T any](ctx context.Context, d *DB, tx *sql.Tx, audit func(T) AuditEvent, v T) error {
	if audit == nil {
		return nil
	}
	_, err := d.appendEvent(ctx, tx, Recorded{Event: audit(v)})
	return err
}

// EnrollmentTokens returns up to limit tokens, newest first, with ids
// below beforeID (0: from the newest). Limits as for Changes.
func (d *DB) EnrollmentTokens(ctx context.Context, limit int, beforeID int64) ([]EnrollmentToken, error) {
	rows, err := d.sql.QueryContext(ctx, `SELECT `+enrollmentColumns+` FROM enrollment_tokens
		WHERE id < $1 ORDER BY id DESC LIMIT $2`, beforeOrMax(beforeID), clampLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("list enrollment tokens: %w", err)
	}
	return collect(rows, scanEnrollment, "list enrollment tokens")
}

// EnrollmentToken returns token id, or ErrNotFound.
func (d *DB) EnrollmentToken(ctx context.Context, id int64) (EnrollmentToken, error) {
	t, err := scanEnrollment(d.sql.QueryRowContext(ctx,
		`SELECT `+enrollmentColumns+` FROM enrollment_tokens WHERE id = $1`, id))
	return t, notFound(err, "enrollment token %d", id)
}

// RevokeEnrollmentToken makes token id unusable from at on, with the audit
// event audit returns in the same transaction. It returns ErrNotFound for
// an unknown token and ErrConflict for one already used or revoked.
func (d *DB) RevokeEnrollmentToken(ctx context.Context, id int64, at time.Time, audit func(EnrollmentToken) AuditEvent) (EnrollmentToken, error) {
	tx, err := d.sql.BeginTx(ctx, nil)
	if err != nil {
		return EnrollmentToken{}, fmt.Errorf("revoke enrollment token %d: begin: %w", id, err)
	}
	defer tx.Rollback()
	t, err := scanEnrollment(tx.QueryRowContext(ctx, `UPDATE enrollment_tokens SET revoked_at = $1
		WHERE id = $2 AND used_at IS NULL AND revoked_at IS NULL RETURNING `+enrollmentColumns, toMS(at), id))
	if errors.Is(err, sql.ErrNoRows) {
		if _, gerr := d.EnrollmentToken(ctx, id); gerr != nil {
			return EnrollmentToken{}, fmt.Errorf("revoke enrollment token: %w", gerr)
		}
		return EnrollmentToken{}, fmt.Errorf("revoke enrollment token %d: used or revoked already: %w", id, ErrConflict)
	}
	if err != nil {
		return EnrollmentToken{}, fmt.Errorf("revoke enrollment token %d: %w", id, err)
	}
	if err := auditIn(ctx, d, tx, audit, t); err != nil {
		return EnrollmentToken{}, fmt.Errorf("revoke enrollment token %d: %w", id, err)
	}
	if err := tx.Commit(); err != nil {
		return EnrollmentToken{}, fmt.Errorf("revoke enrollment token %d: commit: %w", id, err)
	}
	return t, nil
}

// Enrollment is what an agent presents to enroll.
type Enrollment struct {
	TokenHash []byte
	Name      string
	PublicKey string
	Version   string
	At        time.Time // zero: now
}

// Enroll spends the token whose hash e carries and enrolls host e.Name in
// the token's group, in one transaction with the audit event audit
// returns. One conditional UPDATE decides who spends a token, so of two
// agents racing with one token exactly one enrolls.
//
// A new name makes a new host; the name of a revoked host re-enrolls it
// with the new key (its generations go on counting); the name of a host
// that is not revoked answers ErrConflict and leaves the token unspent. A
// token that cannot be spent answers *EnrollRefusedError.
func (d *DB) Enroll(ctx context.Context, e Enrollment, audit func(Host) AuditEvent) (Host, error) {
	at := orNow(e.At)
	tx, err := d.sql.BeginTx(ctx, nil)
	if err != nil {
		return Host{}, fmt.Errorf("enroll %q: begin: %w", e.Name, err)
	}
	defer tx.Rollback()
	var tokenID int64
	var group string
	err = tx.QueryRowContext(ctx, `UPDATE enrollment_tokens SET used_at = $1, used_by = $2
		WHERE hash = $3 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $1
		RETURNING id, group_name`, toMS(at), e.Name, e.TokenHash).Scan(&tokenID, &group)
	if errors.Is(err, sql.ErrNoRows) {
		return Host{}, d.whyRefused(ctx, tx, e.TokenHash, at)
	}
	if err != nil {
		return Host{}, fmt.Errorf("enroll %q: spend token: %w", e.Name, err)
	}
	// A revoked host comes back under its name; a live one keeps it.
	h, err := scanHost(tx.QueryRowContext(ctx, `INSERT INTO hosts (name, group_name, public_key, enrolled_at, agent_version)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (name) DO UPDATE SET group_name = excluded.group_name, public_key = excluded.public_key,
			prev_public_key = NULL, prev_key_until = NULL, enrolled_at = excluded.enrolled_at,
			revoked_at = NULL, agent_version = excluded.agent_version
		WHERE hosts.revoked_at IS NOT NULL
		RETURNING `+hostColumns, e.Name, group, e.PublicKey, toMS(at), e.Version))
	if errors.Is(err, sql.ErrNoRows) {
		return Host{}, fmt.Errorf("enroll %q: a host of that name is enrolled and not revoked: %w", e.Name, ErrConflict)
	}
	if err != nil {
		return Host{}, fmt.Errorf("enroll %q: store host: %w", e.Name, err)
	}
	// Nonces stay: a host that comes back with its old key must not make
	// its requests from just before the revocation replayable.
	if err := auditIn(ctx, d, tx, audit, h); err != nil {
		return Host{}, fmt.Errorf("enroll %q: %w", e.Name, err)
	}
	if err := tx.Commit(); err != nil {
		return Host{}, fmt.Errorf("enroll %q: commit: %w", e.Name, err)
	}
	return h, nil
}

// whyRefused reads why the token with hash could not be spent at at.
func (d *DB) whyRefused(ctx context.Context, tx *sql.Tx, hash []byte, at time.Time) error {
	t, err := scanEnrollment(tx.QueryRowContext(ctx,
		`SELECT `+enrollmentColumns+` FROM enrollment_tokens WHERE hash = $1`, hash))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return &EnrollRefusedError{Reason: RefusedUnknown}
	case err != nil:
		return fmt.Errorf("enroll: read token: %w", err)
	case t.UsedAt != nil:
		return &EnrollRefusedError{Reason: RefusedUsed, TokenID: t.ID}
	case t.RevokedAt != nil:
		return &EnrollRefusedError{Reason: RefusedRevoked, TokenID: t.ID}
	case !t.ExpiresAt.After(at):
		return &EnrollRefusedError{Reason: RefusedExpired, TokenID: t.ID}
	}
	// Spendable now: it was spent by the racer that just committed.
	return &EnrollRefusedError{Reason: RefusedUsed, TokenID: t.ID}
}
