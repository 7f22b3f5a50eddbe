package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Monitors (drift, exhaustion risk) announce a change of what they watch
// once, not at every sample: the last value each read is kept in the
// database, so a restart does not announce again what was announced.

// Observe records that monitor name now reads value. If that differs from
// what it read before ("" the first time), it stores value and, when
// event returns one for the previous value, appends that audit event with
// facts for the webhooks, in the same transaction. It returns the
// previous value.
func (d *DB) Observe(ctx context.Context, name, value string, event func(prev string) *AuditEvent, facts map[string]any) (string, error) {
	what := fmt.Sprintf("record monitor %s = %s", name, value)
	prev, err := d.monitor(ctx, d.sql, name)
	if err != nil || prev == value {
		return prev, err
	}
	tx, err := d.sql.BeginTx(ctx, nil)
	if err != nil {
		return "", fmt.Errorf("%s: begin: %w", what, err)
	}
	defer tx.Rollback()
	// Read again under the write lock (on PostgreSQL the audit log's
	// advisory lock, which every event takes anyway): another writer may
	// have moved it, and two processes seeing one change announce it once.
	if err := d.lockAudit(ctx, tx); err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	if prev, err = d.monitor(ctx, tx, name); err != nil || prev == value {
		return prev, err
	}
	at := now()
	if _, err := tx.ExecContext(ctx, `INSERT INTO monitor_state (name, value, at) VALUES ($1, $2, $3)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value, at = excluded.at`, name, value, toMS(at)); err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	if e := event(prev); e != nil {
		if _, err := d.appendEvent(ctx, tx, Recorded{Event: *e, Facts: facts}); err != nil {
			return "", fmt.Errorf("%s: %w", what, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return "", fmt.Errorf("%s: commit: %w", what, err)
	}
	return prev, nil
}

// Monitor returns what monitor name last read, "" if it never read.
func (d *DB) Monitor(ctx context.Context, name string) (string, error) {
	return d.monitor(ctx, d.sql, name)
}

func (d *DB) monitor(ctx context.Context, q queryer, name string) (string, error) {
	var v string
	err := q.QueryRowContext(ctx, `SELECT value FROM monitor_state WHERE name = $1`, name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read monitor %s: %w", name, err)
	}
	return v, nil
}
