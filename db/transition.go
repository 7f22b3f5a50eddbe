package db

import (
	"context"
	"errors"
	"fmt"
)

// Transition is change Change.ID moving from status From to Change.Status,
// writing Change's mutable fields.
type Transition struct {
	From   string
	Change Change
}

// StatusConflictError says a change was no longer in the status a
// Transition expected: another request moved it first. It wraps
// ErrConflict, and its message is a sentence fit for the user.
type StatusConflictError struct {
	ID     int64
	Status string // the status the change is in
	From   string // the status the transition expected
}

func (e *StatusConflictError) Error() string {
	return fmt.Sprintf("change %d is %s, not %s", e.ID, e.Status, e.From)
}

// Unwrap lets callers test errors.Is(err, ErrConflict).
func (e *StatusConflictError) Unwrap() error { return ErrConflict }

// Transition applies ts in order, appends events (each event's ChangeID,
// if nil, set to ts[0].Change.ID), and inserts s if not nil, all in one
// transaction. If a change is no longer in status From (another request
// moved it first) nothing is written and the error is a
// *StatusConflictError, wrapping ErrConflict: "change 7 is applied, not
// proposed". A zero Change.UpdatedAt means now. It returns the changes as
// stored, in the order of ts.
//
// The status check is part of the UPDATE, not a read before it, so two
// requests racing to approve, apply or confirm the same change cannot
// both win: the second finds the row moved on.
func (d *DB) Transition(ctx context.Context, ts []Transition, events []AuditEvent, s *Sample) ([]Change, error) {
	if len(ts) == 0 {
		return nil, errors.New("transition: no changes given")
	}
	what := fmt.Sprintf("transition change %d", ts[0].Change.ID)
	args := make([][]any, len(ts))
	for i, t := range ts {
		c := t.Change // a copy: normalising must not touch the caller's slice
		if !knownStatuses[t.From] {
			return nil, fmt.Errorf("transition change %d: unknown status %q to move from", c.ID, t.From)
		}
		c.UpdatedAt = orNow(c.UpdatedAt)
		v, err := mutableValues(&c)
		if err != nil {
			return nil, fmt.Errorf("transition change %d: %w", c.ID, err)
		}
		args[i] = append(v, c.ID, t.From)
	}

	tx, err := d.sql.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: begin: %w", what, err)
	}
	defer tx.Rollback()
	for i, t := range ts {
		res, err := tx.ExecContext(ctx,
			`UPDATE changes SET `+mutableSet+` WHERE id = `+param(mutableCount+1)+
				` AND status = `+param(mutableCount+2), args[i]...)
		if err != nil {
			return nil, fmt.Errorf("update change %d: %w", t.Change.ID, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return nil, fmt.Errorf("update change %d: %w", t.Change.ID, err)
		} else if n == 0 {
			return nil, moved(ctx, tx, t)
		}
	}
	// Read back inside the transaction: what was written, not what a
	// later request has made of it (and what the events' webhooks carry).
	out := make([]Change, len(ts))
	for i, t := range ts {
		if out[i], err = changeByID(ctx, tx, t.Change.ID); err != nil {
			return nil, fmt.Errorf("%s: read back: %w", what, err)
		}
	}
	for _, e := range events {
		if e.ChangeID == nil {
			id := ts[0].Change.ID
			e.ChangeID = &id
		}
		if _, err := d.appendEvent(ctx, tx, Recorded{Event: e, Changes: out}); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
	}
	if s != nil {
		if _, err := insertSample(ctx, tx, *s); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("%s: commit: %w", what, err)
	}
	return out, nil
}

// moved explains why t's UPDATE matched no row: the change is gone, or
// in another status than t.From.
func moved(ctx context.Context, q queryer, t Transition) error {
	var status string
	err := q.QueryRowContext(ctx, `SELECT status FROM changes WHERE id = $1`, t.Change.ID).Scan(&status)
	if err != nil {
		return fmt.Errorf("transition %w", notFound(err, "change %d", t.Change.ID))
	}
	return &StatusConflictError{ID: t.Change.ID, Status: status, From: t.From}
}
