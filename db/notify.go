package db

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// Replicas of the control plane tell each other that something changed
// through PostgreSQL's LISTEN/NOTIFY: a hint, sent after the commit, that
// makes the listeners read the database again. Notifications sent while a
// listener is reconnecting are lost (they are not queued for it), so the
// listeners also compare WakeMarks every few seconds.

// ErrNoNotify is Listen's answer on SQLite, which serves one process: no
// one else needs telling.
var ErrNoNotify = errors.New("LISTEN/NOTIFY needs PostgreSQL")

// Notify sends payload on channel to every listener of this database,
// other replicas included; on SQLite it does nothing.
func (d *DB) Notify(ctx context.Context, channel, payload string) error {
	if d.dialect != Postgres {
		return nil
	}
	if _, err := d.sql.ExecContext(ctx, `SELECT pg_notify($1, $2)`, channel, payload); err != nil {
		return fmt.Errorf("notify %s: %w", channel, err)
	}
	return nil
}

// Listen calls fn with the payload of each notification on channel, in
// order, until ctx ends or the connection fails, and returns why. It keeps
// one connection of the pool for itself meanwhile, and ready is called
// once it listens: a change committed before then was not heard.
func (d *DB) Listen(ctx context.Context, channel string, ready func(), fn func(payload string)) error {
	if d.dialect != Postgres {
		return ErrNoNotify
	}
	conn, err := d.sql.Conn(ctx)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", channel, err)
	}
	defer conn.Close()
	var cause error
	err = conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("listen on %s: connection is a %T, not pgx's", channel, dc)
		}
		pc := sc.Conn()
		if _, err := pc.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
			return fmt.Errorf("listen on %s: %w", channel, err)
		}
		ready()
		for {
			n, err := pc.WaitForNotification(ctx)
			if err != nil {
				// The connection still listens (or is broken): the pool
				// must not hand it out again.
				cause = fmt.Errorf("listen on %s: %w", channel, err)
				return driver.ErrBadConn
			}
			fn(n.Payload)
		}
	})
	if cause != nil {
		return cause
	}
	return err
}

// WakeMarks returns, per host name, what a held long poll answers on: the
// generation, the generations to confirm, the revocation and the number of
// previews waiting. Two marks differ when a poll on that host should wake.
func (d *DB) WakeMarks(ctx context.Context) (map[string]string, error) {
	rows, err := d.sql.QueryContext(ctx, `SELECT h.name, h.generation, h.confirm, COALESCE(h.revoked_at, 0),
		(SELECT COUNT(*) FROM host_previews p WHERE p.host_id = h.id AND p.answered_at IS NULL)
		FROM hosts h`)
	if err != nil {
		return nil, fmt.Errorf("read host marks: %w", err)
	}
	defer rows.Close()
	marks := map[string]string{}
	for rows.Next() {
		var name, confirm string
		var gen, revoked, previews int64
		if err := rows.Scan(&name, &gen, &confirm, &revoked, &previews); err != nil {
			return nil, fmt.Errorf("read host marks: %w", err)
		}
		marks[name] = strconv.FormatInt(gen, 10) + " " + confirm + " " + strconv.FormatInt(revoked, 10) + " " + strconv.FormatInt(previews, 10)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read host marks: %w", err)
	}
	return marks, nil
}
