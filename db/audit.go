package db

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
)

// The audit log is append-only (database triggers refuse UPDATE and DELETE)
// and hash-chained, so an edit made behind the triggers' back shows up in
// VerifyAudit. A chain kept in the same file can still be rewritten whole
// by someone with write access; anchoring the head hash elsewhere (journald,
// an HMAC key outside the DB) is the caller's job.
//
// Each row's hash is hex(SHA-256(m)), where m concatenates these fields, in
// this order, each as a netstring (decimal byte length, ':', the bytes, ','):
//
//	"portpanel-audit-v1", prev_hash, id, at, user, action, detail, change_id
//
// id and at (unix milliseconds, UTC) are base-10 integers; change_id is
// base 10, or empty when there is none; prev_hash is the previous row's
// hash, empty for the first row. Length prefixes make the encoding
// unambiguous whatever the text fields contain; the version tag lets a
// later format coexist.
const auditVersion = "portpanel-audit-v1"

func auditHash(e AuditEvent) string {
	changeID := ""
	if e.ChangeID != nil {
		changeID = strconv.FormatInt(*e.ChangeID, 10)
	}
	h := sha256.New()
	for _, f := range []string{
		auditVersion, e.PrevHash,
		strconv.FormatInt(e.ID, 10), strconv.FormatInt(toMS(e.At), 10),
		e.User, e.Action, e.Detail, changeID,
	} {
		fmt.Fprintf(h, "%d:%s,", len(f), f)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// AppendAudit adds e to the audit log and returns it as stored. A zero
// e.At means now.
func (d *DB) AppendAudit(ctx context.Context, e AuditEvent) (AuditEvent, error) {
	tx, err := d.sql.BeginTx(ctx, nil)
	if err != nil {
		return AuditEvent{}, fmt.Errorf("append audit event: begin: %w", err)
	}
	defer tx.Rollback()
	if e, err = appendAudit(ctx, tx, e); err != nil {
		return AuditEvent{}, err
	}
	if err := tx.Commit(); err != nil {
		return AuditEvent{}, fmt.Errorf("append audit event: commit: %w", err)
	}
	return e, nil
}

// appendAudit must run in a transaction that holds the write lock from its
// start (Open's _txlock=immediate), so no other append can read the same
// previous hash and fork the chain.
func appendAudit(ctx context.Context, tx *sql.Tx, e AuditEvent) (AuditEvent, error) {
	e.At = orNow(e.At)
	var lastID int64
	var prev string
	err := tx.QueryRowContext(ctx,
		`SELECT id, hash FROM audit_events ORDER BY id DESC LIMIT 1`).Scan(&lastID, &prev)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return AuditEvent{}, fmt.Errorf("append audit event: read chain head: %w", err)
	}
	// The id is hashed, so it is chosen here rather than left to
	// AUTOINCREMENT; with deletes refused by trigger the two agree.
	e.ID = lastID + 1
	e.PrevHash = prev
	e.Hash = auditHash(e)
	_, err = tx.ExecContext(ctx, `INSERT INTO audit_events
		(id, at, user_name, action, detail, change_id, prev_hash, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		e.ID, toMS(e.At), e.User, e.Action, e.Detail, e.ChangeID, e.PrevHash, e.Hash)
	if err != nil {
		return AuditEvent{}, fmt.Errorf("insert audit event %q: %w", e.Action, err)
	}
	return e, nil
}

const auditColumns = `id, at, user_name, action, detail, change_id, prev_hash, hash`

func scanAudit(row interface{ Scan(...any) error }) (AuditEvent, error) {
	var e AuditEvent
	var at int64
	var changeID sql.NullInt64
	if err := row.Scan(&e.ID, &at, &e.User, &e.Action, &e.Detail, &changeID, &e.PrevHash, &e.Hash); err != nil {
		return AuditEvent{}, err
	}
	e.At = fromMS(at)
	if changeID.Valid {
		e.ChangeID = &changeID.Int64
	}
	return e, nil
}

// Audit returns up to limit audit events, newest first, with ids below
// beforeID (0: from the newest). Limits as for Changes.
func (d *DB) Audit(ctx context.Context, limit int, beforeID int64) ([]AuditEvent, error) {
	return d.AuditFiltered(ctx, Filter{}, limit, beforeID)
}

// ChainError says where and how the audit chain is broken.
type ChainError struct {
	ID     int64 // the first event that does not verify
	Reason string
}

func (e *ChainError) Error() string {
	return fmt.Sprintf("audit event %d: %s", e.ID, e.Reason)
}

// VerifyAudit recomputes the whole audit chain, oldest first. It returns
// how many events verified; if one does not, it stops there with a
// *ChainError naming it.
func (d *DB) VerifyAudit(ctx context.Context) (int, error) {
	// One statement reads one WAL snapshot, so appends made meanwhile
	// cannot make a sound chain look broken.
	rows, err := d.sql.QueryContext(ctx, `SELECT `+auditColumns+` FROM audit_events ORDER BY id`)
	if err != nil {
		return 0, fmt.Errorf("verify audit log: %w", err)
	}
	defer rows.Close()
	n, prev := 0, ""
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return n, fmt.Errorf("verify audit log: read event after %d verified: %w", n, err)
		}
		switch {
		case e.PrevHash != prev:
			return n, &ChainError{ID: e.ID, Reason: "prev_hash does not match the previous event's hash (an event was removed, inserted or changed before it)"}
		case auditHash(e) != e.Hash:
			return n, &ChainError{ID: e.ID, Reason: "hash does not match its contents (the event was changed)"}
		}
		prev = e.Hash
		n++
	}
	if err := rows.Err(); err != nil {
		return n, fmt.Errorf("verify audit log: %w", err)
	}
	return n, nil
}
