package db

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// Endpoint is a webhook receiver an admin configured.
type Endpoint struct {
	ID  int64
	URL string
	// Secret is the HMAC key, "whsec_" and base64. It is needed to sign, so
	// it is stored as is: callers show it once, at creation, and never log
	// or audit it.
	Secret    string
	Events    []string // event types it receives
	Format    string   // FormatStandard or FormatChat
	Enabled   bool
	CreatedBy string
	CreatedAt time.Time
	UpdatedAt time.Time
	// The last delivery attempt: when, the HTTP status (0: no answer) and
	// what went wrong ("" when it was delivered).
	LastAttemptAt *time.Time
	LastStatus    int
	LastError     string
	// Pending and Dead count its deliveries waiting or given up; NextTry
	// is when the next is due (nil: none waiting).
	Pending, Dead int
	NextTry       *time.Time
}

const endpointColumns = `e.id, e.url, e.secret, e.events, e.format, e.enabled, e.created_by, e.created_at,
	e.updated_at, e.last_attempt_at, e.last_status, e.last_error,
	(SELECT COUNT(*) FROM webhook_deliveries d WHERE d.endpoint_id = e.id AND d.status = 'pending'),
	(SELECT COUNT(*) FROM webhook_deliveries d WHERE d.endpoint_id = e.id AND d.status = 'dead'),
	(SELECT MIN(next_at) FROM webhook_deliveries d WHERE d.endpoint_id = e.id AND d.status = 'pending')`

func scanEndpoint(row interface{ Scan(...any) error }) (Endpoint, error) {
	var e Endpoint
	var events string
	var created, updated int64
	var lastAt, lastStatus, next sql.NullInt64
	if err := row.Scan(&e.ID, &e.URL, &e.Secret, &events, &e.Format, &e.Enabled, &e.CreatedBy, &created,
		&updated, &lastAt, &lastStatus, &e.LastError, &e.Pending, &e.Dead, &next); err != nil {
		return Endpoint{}, err
	}
	e.Events = strings.Fields(events)
	e.CreatedAt, e.UpdatedAt = fromMS(created), fromMS(updated)
	e.LastAttemptAt, e.NextTry = timeOrNil(lastAt), timeOrNil(next)
	e.LastStatus = int(lastStatus.Int64)
	return e, nil
}

// Endpoints lists every endpoint, oldest first.
func (d *DB) Endpoints(ctx context.Context) ([]Endpoint, error) {
	rows, err := d.sql.QueryContext(ctx, `SELECT `+endpointColumns+` FROM webhook_endpoints e ORDER BY e.id`)
	if err != nil {
		return nil, fmt.Errorf("list webhook endpoints: %w", err)
	}
	return collect(rows, scanEndpoint, "list webhook endpoints")
}

// Endpoint returns endpoint id, or ErrNotFound.
func (d *DB) Endpoint(ctx context.Context, id int64) (Endpoint, error) {
	return endpointByID(ctx, d.sql, id)
}

func endpointByID(ctx context.Context, q queryer, id int64) (Endpoint, error) {
	e, err := scanEndpoint(q.QueryRowContext(ctx, `SELECT `+endpointColumns+` FROM webhook_endpoints e WHERE e.id = $1`, id))
	return e, notFound(err, "webhook endpoint %d", id)
}

// AddEndpoint stores e (URL, secret, events, format, enabled, created by)
// and, in the same transaction, the audit event audit returns for it as
// stored. It returns e as stored.
func (d *DB) AddEndpoint(ctx context.Context, e Endpoint, audit func(Endpoint) AuditEvent) (Endpoint, error) {
	return d.endpointTx(ctx, "add webhook endpoint", audit, func(tx *sql.Tx) (int64, error) {
		at := toMS(now())
		var id int64
		err := tx.QueryRowContext(ctx, `INSERT INTO webhook_endpoints
			(url, secret, events, format, enabled, created_by, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
			e.URL, e.Secret, strings.Join(e.Events, " "), e.Format, e.Enabled, e.CreatedBy, at, at).Scan(&id)
		return id, err
	})
}

// UpdateEndpoint sets endpoint e.ID's URL, events, format and enabled flag,
// and its secret when e.Secret is not empty, with the audit event audit
// returns, in one transaction. It returns the endpoint as stored, or
// ErrNotFound.
func (d *DB) UpdateEndpoint(ctx context.Context, e Endpoint, audit func(Endpoint) AuditEvent) (Endpoint, error) {
	return d.endpointTx(ctx, fmt.Sprintf("update webhook endpoint %d", e.ID), audit, func(tx *sql.Tx) (int64, error) {
		res, err := tx.ExecContext(ctx, `UPDATE webhook_endpoints SET url = $1, events = $2, format = $3, enabled = $4,
			secret = CASE WHEN $5 = '' THEN secret ELSE $6 END, updated_at = $7 WHERE id = $8`,
			e.URL, strings.Join(e.Events, " "), e.Format, e.Enabled, e.Secret, e.Secret, toMS(now()), e.ID)
		if err != nil {
			return 0, err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return 0, notFound(orNoRows(err), "webhook endpoint %d", e.ID)
		}
		return e.ID, nil
	})
}

// DeleteEndpoint deletes endpoint id and its deliveries, with the audit
// event audit returns for it, in one transaction. It returns the deleted
// endpoint, or ErrNotFound.
func (d *DB) DeleteEndpoint(ctx context.Context, id int64, audit func(Endpoint) AuditEvent) (Endpoint, error) {
	tx, err := d.sql.BeginTx(ctx, nil)
	if err != nil {
		return Endpoint{}, fmt.Errorf("delete webhook endpoint %d: begin: %w", id, err)
	}
	defer tx.Rollback()
	// PostgreSQL: the audit lock before the row lock the DELETE takes. An
	// append holding the audit lock may queue a delivery to this endpoint,
	// which waits for that row lock; taking them in the other order here
	// would deadlock with it.
	if err := d.lockAudit(ctx, tx); err != nil {
		return Endpoint{}, fmt.Errorf("delete webhook endpoint %d: %w", id, err)
	}
	e, err := endpointByID(ctx, tx, id)
	if err != nil {
		return Endpoint{}, err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM webhook_endpoints WHERE id = $1`, id); err != nil {
		return Endpoint{}, fmt.Errorf("delete webhook endpoint %d: %w", id, err)
	}
	if _, err := d.appendEvent(ctx, tx, Recorded{Event: audit(e)}); err != nil {
		return Endpoint{}, fmt.Errorf("delete webhook endpoint %d: %w", id, err)
	}
	if err := tx.Commit(); err != nil {
		return Endpoint{}, fmt.Errorf("delete webhook endpoint %d: commit: %w", id, err)
	}
	return e, nil
}

// endpointTx runs write, then reads the endpoint back and appends its audit
// event, in one transaction.
func (d *DB) endpointTx(ctx context.Context, what string, audit func(Endpoint) AuditEvent, write func(*sql.Tx) (int64, error)) (Endpoint, error) {
	tx, err := d.sql.BeginTx(ctx, nil)
	if err != nil {
		return Endpoint{}, fmt.Errorf("%s: begin: %w", what, err)
	}
	defer tx.Rollback()
	id, err := write(tx)
	if err != nil {
		return Endpoint{}, fmt.Errorf("%s: %w", what, err)
	}
	e, err := endpointByID(ctx, tx, id)
	if err != nil {
		return Endpoint{}, fmt.Errorf("%s: read back: %w", what, err)
	}
	if _, err := d.appendEvent(ctx, tx, Recorded{Event: audit(e)}); err != nil {
		return Endpoint{}, fmt.Errorf("%s: %w", what, err)
	}
	if err := tx.Commit(); err != nil {
		return Endpoint{}, fmt.Errorf("%s: commit: %w", what, err)
	}
	return e, nil
}

// EnqueueTest appends event e to the audit log and, in the same
// transaction, queues n for endpoint id alone, whatever it subscribes to:
// the page's "send test" button. It returns ErrNotFound when there is no
// such endpoint.
func (d *DB) EnqueueTest(ctx context.Context, id int64, e AuditEvent, n Notice) error {
	tx, err := d.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("queue test webhook: begin: %w", err)
	}
	defer tx.Rollback()
	ep, err := endpointByID(ctx, tx, id)
	if err != nil {
		return err
	}
	if e, err = d.appendEvent(ctx, tx, Recorded{Event: e}); err != nil {
		return fmt.Errorf("queue test webhook: %w", err)
	}
	if err := enqueue(ctx, tx, id, ep.Format, e, n); err != nil {
		return fmt.Errorf("queue test webhook for endpoint %d: %w", id, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("queue test webhook: commit: %w", err)
	}
	return nil
}

// orNoRows turns a nil error (an UPDATE that matched nothing) into
// sql.ErrNoRows for notFound.
func orNoRows(err error) error {
	if err == nil {
		return sql.ErrNoRows
	}
	return err
}
