package db

import (
	"context"
	"fmt"
	"time"
)

// ListenerSighting is a port a service listened on (TCP) or had bound
// (UDP), with the process that held it, from the first to the last scan
// that saw it.
type ListenerSighting struct {
	Proto     string // "tcp" or "udp"
	Port      int
	Process   string // "" when it could not be named
	PID       int    // the last one seen; 0 when unknown
	FirstSeen time.Time
	LastSeen  time.Time
}

// RecordListeners stores what one scan at at saw: each sighting's row gets
// at as its last time (and its PID), a new one at as its first too. One
// transaction, so a check never reads half a scan.
func (d *DB) RecordListeners(ctx context.Context, at time.Time, seen []ListenerSighting) error {
	tx, err := d.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("record listeners: begin: %w", err)
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO listener_sightings (proto, port, process, pid, first_seen, last_seen)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (proto, port, process) DO UPDATE SET pid = excluded.pid, last_seen = excluded.last_seen`)
	if err != nil {
		return fmt.Errorf("record listeners: %w", err)
	}
	defer stmt.Close()
	ms := toMS(at)
	for _, s := range seen {
		if _, err := stmt.ExecContext(ctx, s.Proto, s.Port, s.Process, s.PID, ms, ms); err != nil {
			return fmt.Errorf("record listener %d/%s: %w", s.Port, s.Proto, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("record listeners: commit: %w", err)
	}
	return nil
}

// ListenersSince returns the sightings last seen at or after since, by
// port, protocol and process.
func (d *DB) ListenersSince(ctx context.Context, since time.Time) ([]ListenerSighting, error) {
	rows, err := d.sql.QueryContext(ctx, `SELECT proto, port, process, pid, first_seen, last_seen
		FROM listener_sightings WHERE last_seen >= $1 ORDER BY port, proto, process`, toMS(since))
	if err != nil {
		return nil, fmt.Errorf("list listeners: %w", err)
	}
	return collect(rows, scanListener, "list listeners")
}

func scanListener(row interface{ Scan(...any) error }) (ListenerSighting, error) {
	var s ListenerSighting
	var first, last int64
	err := row.Scan(&s.Proto, &s.Port, &s.Process, &s.PID, &first, &last)
	s.FirstSeen, s.LastSeen = fromMS(first), fromMS(last)
	return s, err
}

// PruneListeners deletes the sightings last seen before before and returns
// how many.
func (d *DB) PruneListeners(ctx context.Context, before time.Time) (int, error) {
	res, err := d.sql.ExecContext(ctx, `DELETE FROM listener_sightings WHERE last_seen < $1`, toMS(before))
	if err != nil {
		return 0, fmt.Errorf("prune listeners: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("prune listeners: count deleted rows: %w", err)
	}
	return int(n), nil
}
