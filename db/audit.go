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

// AuditHash is e's hash in the chain, from its fields and PrevHash (not
// Hash). Exported for tools that write a chain in bulk (bench/cmd/seed).
func AuditHash(e AuditEvent) string {
	// Appended into one buffer rather than written field by field with
	// fmt: a full check hashes every event, and fmt's boxing and
	// allocations were half of its time.
	var buf [512]byte
	var num [20]byte
	b := appendNetstring(buf[:0], auditVersion)
	b = appendNetstring(b, e.PrevHash)
	b = appendNetstring(b, strconv.AppendInt(num[:0], e.ID, 10))
	b = appendNetstring(b, strconv.AppendInt(num[:0], toMS(e.At), 10))
	b = appendNetstring(b, e.User)
	b = appendNetstring(b, e.Action)
	b = appendNetstring(b, e.Detail)
	if e.ChangeID != nil {
		b = appendNetstring(b, strconv.AppendInt(num[:0], *e.ChangeID, 10))
	} else {
		b = appendNetstring(b, "")
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// appendNetstring appends f as a netstring: its length in bytes, ':', f, ','.
func appendNetstring[T string | []byte](b []byte, f T) []byte {
	b = strconv.AppendInt(b, int64(len(f)), 10)
	b = append(b, ':')
	b = append(b, f...)
	return append(b, ',')
}

// AppendAudit adds e to the audit log and returns it as stored. A zero
// e.At means now.
func (d *DB) AppendAudit(ctx context.Context, e AuditEvent) (AuditEvent, error) {
	tx, err := d.sql.BeginTx(ctx, nil)
	if err != nil {
		return AuditEvent{}, fmt.Errorf("append audit event: begin: %w", err)
	}
	defer tx.Rollback()
	if e, err = d.appendEvent(ctx, tx, Recorded{Event: e}); err != nil {
		return AuditEvent{}, err
	}
	if err := tx.Commit(); err != nil {
		return AuditEvent{}, fmt.Errorf("append audit event: commit: %w", err)
	}
	return e, nil
}

// appendAudit appends e in tx, which no other append may run beside
// between its read of the chain head and its commit, or both would read
// the same previous hash and fork the chain. On SQLite tx holds the write
// lock from its start (Open's _txlock=immediate); on PostgreSQL it takes
// an advisory lock (lockAudit), held to its end, before reading the head.
// Under READ COMMITTED the head is read by a statement begun after the
// lock was granted, so it sees the previous append, committed before its
// lock was released.
func (d *DB) appendAudit(ctx context.Context, tx *sql.Tx, e AuditEvent) (AuditEvent, error) {
	e.At = orNow(e.At)
	if err := d.lockAudit(ctx, tx); err != nil {
		return AuditEvent{}, fmt.Errorf("append audit event: %w", err)
	}
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
	e.Hash = AuditHash(e)
	_, err = tx.ExecContext(ctx, `INSERT INTO audit_events
		(id, at, user_name, action, detail, change_id, prev_hash, hash)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
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
