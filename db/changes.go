package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
)

// knownStatuses is checked in Go rather than by a CHECK constraint, which
// SQLite cannot alter: the approval workflow will add statuses.
var knownStatuses = map[string]bool{
	StatusApplied: true,
	StatusFailed:  true,
}

// RecordChange stores a change, the audit event describing it (its ChangeID
// set to the new change) and, if s is not nil, the sample taken after it,
// all in one transaction: either all three are stored or none. c.ID is
// ignored; a zero c.CreatedAt means now.
func (d *DB) RecordChange(ctx context.Context, c Change, e AuditEvent, s *Sample) (Change, AuditEvent, error) {
	if !knownStatuses[c.Status] {
		return Change{}, AuditEvent{}, fmt.Errorf("record change: unknown status %q", c.Status)
	}
	c.CreatedAt = orNow(c.CreatedAt)
	c.Warnings = normWarnings(c.Warnings)
	c.FileBefore = normFileBefore(c.FileExisted, c.FileBefore)
	warnings, err := json.Marshal(c.Warnings)
	if err != nil {
		return Change{}, AuditEvent{}, fmt.Errorf("record change: encode warnings: %w", err)
	}

	tx, err := d.sql.BeginTx(ctx, nil)
	if err != nil {
		return Change{}, AuditEvent{}, fmt.Errorf("record change: begin: %w", err)
	}
	defer tx.Rollback()

	err = tx.QueryRowContext(ctx, `INSERT INTO changes (status, low, high, before_low, before_high,
		reason, user_id, user_name, created_at, file, diff, error, rollback_of, warnings,
		file_existed, file_before, file_after_hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		c.Status, c.Low, c.High, c.BeforeLow, c.BeforeHigh,
		c.Reason, c.UserID, c.User, toMS(c.CreatedAt), c.File, c.Diff, c.Error, c.RollbackOf, string(warnings),
		c.FileExisted, c.FileBefore, c.FileAfterHash).Scan(&c.ID)
	if err != nil {
		return Change{}, AuditEvent{}, fmt.Errorf("insert change: %w", err)
	}
	id := c.ID
	e.ChangeID = &id
	if e, err = appendAudit(ctx, tx, e); err != nil {
		return Change{}, AuditEvent{}, fmt.Errorf("record change %d: %w", c.ID, err)
	}
	if s != nil {
		if _, err := insertSample(ctx, tx, *s); err != nil {
			return Change{}, AuditEvent{}, fmt.Errorf("record change %d: %w", c.ID, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return Change{}, AuditEvent{}, fmt.Errorf("record change %d: commit: %w", c.ID, err)
	}
	return c, e, nil
}

// normWarnings makes "no warnings" one value (nil), whatever was passed.
func normWarnings(w []string) []string {
	if len(w) == 0 {
		return nil
	}
	return w
}

// normFileBefore keeps "file absent" (nil, stored NULL) apart from "file
// existed and was empty" (non-nil, stored as an empty BLOB), which a
// rollback must restore differently.
func normFileBefore(existed bool, b []byte) []byte {
	switch {
	case !existed:
		return nil
	case b == nil:
		return []byte{}
	}
	return b
}

const changeColumns = `id, status, low, high, before_low, before_high, reason, user_id,
	user_name, created_at, file, diff, error, rollback_of, warnings, file_existed,
	file_before, file_after_hash`

func scanChange(row interface{ Scan(...any) error }) (Change, error) {
	var c Change
	var created int64
	var rollbackOf sql.NullInt64
	var warnings string
	err := row.Scan(&c.ID, &c.Status, &c.Low, &c.High, &c.BeforeLow, &c.BeforeHigh, &c.Reason,
		&c.UserID, &c.User, &created, &c.File, &c.Diff, &c.Error, &rollbackOf, &warnings,
		&c.FileExisted, &c.FileBefore, &c.FileAfterHash)
	if err != nil {
		return Change{}, err
	}
	c.CreatedAt = fromMS(created)
	if rollbackOf.Valid {
		c.RollbackOf = &rollbackOf.Int64
	}
	if err := json.Unmarshal([]byte(warnings), &c.Warnings); err != nil {
		return Change{}, fmt.Errorf("decode warnings of change %d: %w", c.ID, err)
	}
	c.Warnings = normWarnings(c.Warnings)
	c.FileBefore = normFileBefore(c.FileExisted, c.FileBefore)
	return c, nil
}

// Change returns the change with the given id, or ErrNotFound.
func (d *DB) Change(ctx context.Context, id int64) (Change, error) {
	c, err := scanChange(d.sql.QueryRowContext(ctx,
		`SELECT `+changeColumns+` FROM changes WHERE id = ?`, id))
	return c, notFound(err, "change %d", id)
}

// Changes returns up to limit changes, newest first, with ids below
// beforeID (0: from the newest). Pass the last id of one page as beforeID
// of the next: keyset paging stays fast and stable while rows are added.
// A limit of 0 or less means 50; more than 1000 means 1000.
func (d *DB) Changes(ctx context.Context, limit int, beforeID int64) ([]Change, error) {
	rows, err := d.sql.QueryContext(ctx,
		`SELECT `+changeColumns+` FROM changes WHERE id < ? ORDER BY id DESC LIMIT ?`,
		beforeOrMax(beforeID), clampLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("list changes: %w", err)
	}
	return collect(rows, scanChange, "list changes")
}

// RollbacksOf returns the changes that rolled back change id, oldest first.
func (d *DB) RollbacksOf(ctx context.Context, id int64) ([]Change, error) {
	rows, err := d.sql.QueryContext(ctx,
		`SELECT `+changeColumns+` FROM changes WHERE rollback_of = ? ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("list rollbacks of change %d: %w", id, err)
	}
	return collect(rows, scanChange, fmt.Sprintf("list rollbacks of change %d", id))
}
