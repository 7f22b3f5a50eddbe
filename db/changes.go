package db

import (
	"context"
	"fmt"
	"strings"
)

// knownStatuses is checked in Go rather than by a CHECK constraint, which
// SQLite cannot alter: the approval workflow added statuses without a
// table rebuild, and later ones can be added the same way.
var knownStatuses = map[string]bool{
	StatusProposed: true, StatusApproved: true, StatusRejected: true,
	StatusApplying: true, StatusApplied: true, StatusFailed: true,
	StatusReverted: true, StatusConfirmed: true,
}

// RecordChange stores a change, the audit event describing it (its ChangeID
// set to the new change) and, if s is not nil, the sample taken after it,
// all in one transaction: either all three are stored or none. c.ID is
// ignored; a zero c.CreatedAt means now, and c.UpdatedAt is set to it.
func (d *DB) RecordChange(ctx context.Context, c Change, e AuditEvent, s *Sample) (Change, AuditEvent, error) {
	c.CreatedAt = orNow(c.CreatedAt)
	c.UpdatedAt = c.CreatedAt
	mutable, err := mutableValues(&c)
	if err != nil {
		return Change{}, AuditEvent{}, fmt.Errorf("record change: %w", err)
	}

	tx, err := d.sql.BeginTx(ctx, nil)
	if err != nil {
		return Change{}, AuditEvent{}, fmt.Errorf("record change: begin: %w", err)
	}
	defer tx.Rollback()

	args := append([]any{c.Reason, c.UserID, c.User, toMS(c.CreatedAt), c.File, c.RollbackOf, c.Host, c.BaseGeneration}, mutable...)
	err = tx.QueryRowContext(ctx, `INSERT INTO changes (reason, user_id, user_name, created_at,
		file, rollback_of, host, base_generation, `+mutableColumns+`) VALUES (`+params(1, len(args))+`)
		RETURNING id`, args...).Scan(&c.ID)
	if err != nil {
		return Change{}, AuditEvent{}, fmt.Errorf("insert change: %w", err)
	}
	id := c.ID
	e.ChangeID = &id
	if e, err = d.appendEvent(ctx, tx, Recorded{Event: e, Changes: []Change{c}}); err != nil {
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

// Change returns the change with the given id, or ErrNotFound.
func (d *DB) Change(ctx context.Context, id int64) (Change, error) {
	return changeByID(ctx, d.sql, id)
}

func changeByID(ctx context.Context, q queryer, id int64) (Change, error) {
	c, err := scanChange(q.QueryRowContext(ctx,
		`SELECT `+changeColumns+` FROM changes WHERE id = $1`, id))
	return c, notFound(err, "change %d", id)
}

// Changes returns up to limit changes, newest first, with ids below
// beforeID (0: from the newest). Pass the last id of one page as beforeID
// of the next: keyset paging stays fast and stable while rows are added.
// A limit of 0 or less means 50; more than 1000 means 1000.
func (d *DB) Changes(ctx context.Context, limit int, beforeID int64) ([]Change, error) {
	return d.ChangesFiltered(ctx, Filter{}, limit, beforeID)
}

// ChangeCounts returns how many changes there are in each status, every
// known status included (0 when none), so a metric labelled by status has
// all its series from the start instead of appearing with the first change.
func (d *DB) ChangeCounts(ctx context.Context) (map[string]int, error) {
	rows, err := d.sql.QueryContext(ctx, `SELECT status, COUNT(*) FROM changes GROUP BY status`)
	if err != nil {
		return nil, fmt.Errorf("count changes by status: %w", err)
	}
	defer rows.Close()
	counts := make(map[string]int, len(knownStatuses))
	for s := range knownStatuses {
		counts[s] = 0
	}
	for rows.Next() {
		var status string
		var n int
		if err := rows.Scan(&status, &n); err != nil {
			return nil, fmt.Errorf("count changes by status: %w", err)
		}
		counts[status] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count changes by status: %w", err)
	}
	return counts, nil
}

// RollbacksOf returns the changes that rolled back change id, oldest first.
func (d *DB) RollbacksOf(ctx context.Context, id int64) ([]Change, error) {
	rows, err := d.sql.QueryContext(ctx,
		`SELECT `+changeColumns+` FROM changes WHERE rollback_of = $1 ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("list rollbacks of change %d: %w", id, err)
	}
	return collect(rows, scanChange, fmt.Sprintf("list rollbacks of change %d", id))
}

// RollbacksOfAny returns the rollbacks of any of the changes ids, oldest
// first: one query for a listed page rather than one per change.
func (d *DB) RollbacksOfAny(ctx context.Context, ids []int64) ([]Change, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := d.sql.QueryContext(ctx,
		`SELECT `+changeColumns+` FROM changes WHERE rollback_of IN (`+params(1, len(ids))+`) ORDER BY id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list rollbacks of %d changes: %w", len(ids), err)
	}
	return collect(rows, scanChange, fmt.Sprintf("list rollbacks of %d changes", len(ids)))
}

// ChangesByStatus returns the changes in any of statuses, oldest first
// (the approval queue's order, and the order crash recovery resolves them
// in). No statuses means no changes; an unknown status is an error, so a
// misspelt one does not silently match nothing.
func (d *DB) ChangesByStatus(ctx context.Context, statuses ...string) ([]Change, error) {
	what := fmt.Sprintf("list changes with status %s", strings.Join(statuses, ", "))
	if len(statuses) == 0 {
		return nil, nil
	}
	args := make([]any, len(statuses))
	for i, s := range statuses {
		if !knownStatuses[s] {
			return nil, fmt.Errorf("%s: unknown status %q", what, s)
		}
		args[i] = s
	}
	rows, err := d.sql.QueryContext(ctx, `SELECT `+changeColumns+` FROM changes
		WHERE status IN (`+params(1, len(args))+`) ORDER BY id`, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return collect(rows, scanChange, what)
}

// AwaitingConfirmation returns the applied changes that revert unless
// confirmed, the nearest deadline first.
// awaitingQuery runs on every signed-in page: changes_awaiting_idx (a
// partial index of the rows with a deadline) keeps it flat in history size.
const awaitingQuery = `SELECT ` + changeColumns + ` FROM changes
	WHERE status = $1 AND confirm_by IS NOT NULL ORDER BY confirm_by, id`

func (d *DB) AwaitingConfirmation(ctx context.Context) ([]Change, error) {
	rows, err := d.sql.QueryContext(ctx, awaitingQuery, StatusApplied)
	if err != nil {
		return nil, fmt.Errorf("list changes awaiting confirmation: %w", err)
	}
	return collect(rows, scanChange, "list changes awaiting confirmation")
}
