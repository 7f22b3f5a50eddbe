package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Remote changes are rows of changes with a host (migration 00017); these
// are the queries only they need.

// RemoteChangeSent returns the change sent to host as generation, or, if
// none records that generation yet, the oldest change of host still
// applying without one (sent, then the process stopped before it recorded
// the generation), or ErrNotFound.
//
// One statement, so one snapshot: with two (the generation, then the row
// without one), a sender recording the generation between them made both
// miss, and the agent's result was dropped for good (the fleet
// integration test caught it).
func (d *DB) RemoteChangeSent(ctx context.Context, host string, generation int64) (Change, error) {
	c, err := scanChange(d.sql.QueryRowContext(ctx, `SELECT `+changeColumns+` FROM changes
		WHERE host = $1 AND (generation = $2 OR (generation = 0 AND status = $3))
		ORDER BY CASE WHEN generation = $2 THEN 0 ELSE 1 END, CASE WHEN generation = $2 THEN -id ELSE id END
		LIMIT 1`, host, generation, StatusApplying))
	return c, notFound(err, "change of host %s at generation %d", host, generation)
}

// HostChangesInFlight returns host's changes on their way (applying) or
// awaiting confirmation, oldest first. host must not be "" (the local
// host has AwaitingConfirmation).
func (d *DB) HostChangesInFlight(ctx context.Context, host string) ([]Change, error) {
	what := fmt.Sprintf("list changes in flight on %s", host)
	if host == "" {
		return nil, fmt.Errorf("%s: no host named", what)
	}
	rows, err := d.sql.QueryContext(ctx, `SELECT `+changeColumns+` FROM changes
		WHERE host = $1 AND (status = $2 OR (status = $3 AND confirm_by IS NOT NULL)) ORDER BY id`,
		host, StatusApplying, StatusApplied)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return collect(rows, scanChange, what)
}

// HostChanges returns up to limit changes of host ("" the local host),
// newest first, with ids below beforeID (0: from the newest), as Changes
// pages. A limit of 0 or less means 50; more than 1000 means 1000.
func (d *DB) HostChanges(ctx context.Context, host string, limit int, beforeID int64) ([]Change, error) {
	switch {
	case limit <= 0:
		limit = 50
	case limit > 1000:
		limit = 1000
	}
	if beforeID <= 0 {
		beforeID = 1<<63 - 1
	}
	what := fmt.Sprintf("list changes of host %s", host)
	rows, err := d.sql.QueryContext(ctx, `SELECT `+changeColumns+` FROM changes
		WHERE host = $1 AND id < $2 ORDER BY id DESC LIMIT $3`, host, beforeID, limit)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return collect(rows, scanChange, what)
}

// ConfirmRequester is who last asked to confirm remote change id (its
// latest change.confirm_requested audit event), "" when nobody did: the
// agent confirms it, the row names the person who asked.
func (d *DB) ConfirmRequester(ctx context.Context, id int64) (string, error) {
	var who string
	err := d.sql.QueryRowContext(ctx, `SELECT user_name FROM audit_events
		WHERE change_id = $1 AND action = 'change.confirm_requested' ORDER BY id DESC LIMIT 1`, id).Scan(&who)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("find who confirmed change %d: %w", id, err)
	}
	return who, nil
}
