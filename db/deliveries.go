package db

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Delivery is one event queued for one endpoint.
type Delivery struct {
	ID         int64
	EndpointID int64
	MsgID      string // webhook-id, the same on every attempt
	Type       string
	AuditID    int64
	Body       []byte
	CreatedAt  time.Time
	Status     string // DeliveryPending, DeliveryDelivered or DeliveryDead
	Attempts   int
	NextAt     *time.Time // due time while pending
	// The last attempt: when, the HTTP status (0: no answer), what went
	// wrong.
	LastAttemptAt *time.Time
	LastStatus    int
	LastError     string
	DoneAt        *time.Time
	// URL and Secret are the endpoint's, filled in by ClaimDeliveries for
	// the worker that sends it.
	URL, Secret string
}

const deliveryColumns = `d.id, d.endpoint_id, d.msg_id, d.event_type, d.audit_id, d.body, d.created_at, d.status,
	d.attempts, d.next_at, d.last_attempt_at, d.last_status, d.last_error, d.done_at`

func scanDelivery(row interface{ Scan(...any) error }, extra ...any) (Delivery, error) {
	var x Delivery
	var created int64
	var next, lastAt, lastStatus, done sql.NullInt64
	dest := append([]any{&x.ID, &x.EndpointID, &x.MsgID, &x.Type, &x.AuditID, &x.Body, &created, &x.Status,
		&x.Attempts, &next, &lastAt, &lastStatus, &x.LastError, &done}, extra...)
	if err := row.Scan(dest...); err != nil {
		return Delivery{}, err
	}
	x.CreatedAt = fromMS(created)
	x.NextAt, x.LastAttemptAt, x.DoneAt = timeOrNil(next), timeOrNil(lastAt), timeOrNil(done)
	x.LastStatus = int(lastStatus.Int64)
	return x, nil
}

// ClaimDeliveries returns up to limit pending deliveries due at now,
// oldest due first, each with its endpoint's URL and secret, and holds
// them until now+lease, so a second worker (or the next run of this one)
// does not send them again meanwhile. Nothing is written when nothing is
// due: the worker asks every second.
func (d *DB) ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]Delivery, error) {
	const due = `d.status = 'pending' AND d.next_at <= $1 AND (d.claimed_until IS NULL OR d.claimed_until <= $1)`
	var n int
	if err := d.sql.QueryRowContext(ctx, `SELECT COUNT(*) FROM webhook_deliveries d WHERE `+due,
		toMS(now)).Scan(&n); err != nil {
		return nil, fmt.Errorf("look for due webhook deliveries: %w", err)
	}
	if n == 0 {
		return nil, nil
	}
	tx, err := d.sql.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("claim webhook deliveries: begin: %w", err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT `+deliveryColumns+`, e.url, e.secret
		FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
		WHERE `+due+` ORDER BY d.next_at, d.id LIMIT $2`, toMS(now), clampLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("claim webhook deliveries: %w", err)
	}
	list, err := collect(rows, func(row interface{ Scan(...any) error }) (Delivery, error) {
		var url, secret string
		x, err := scanDelivery(row, &url, &secret)
		x.URL, x.Secret = url, secret
		return x, err
	}, "claim webhook deliveries")
	if err != nil {
		return nil, err
	}
	// Each claim re-checks that the row is still unclaimed: on PostgreSQL
	// another replica's worker may have read the same rows and claimed
	// them first (its UPDATE holds the row until it commits; ours then
	// re-reads it and matches nothing). SQLite serializes the two anyway.
	claimed := list[:0]
	for _, x := range list {
		res, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET claimed_until = $1
			WHERE id = $2 AND (claimed_until IS NULL OR claimed_until <= $3)`,
			toMS(now.Add(lease)), x.ID, toMS(now))
		if err != nil {
			return nil, fmt.Errorf("claim webhook delivery %d: %w", x.ID, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return nil, fmt.Errorf("claim webhook delivery %d: %w", x.ID, err)
		} else if n == 1 {
			claimed = append(claimed, x)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("claim webhook deliveries: commit: %w", err)
	}
	if len(claimed) == 0 {
		return nil, nil
	}
	return claimed, nil
}

// Attempt is the outcome of sending a delivery once.
type Attempt struct {
	At     time.Time
	Status int    // HTTP status; 0 when no answer came
	Error  string // "" when delivered
	// Delivered: a 2xx answer. Otherwise NextAt is when to try again; nil
	// means give up (the delivery is dead).
	Delivered bool
	NextAt    *time.Time
}

// RecordAttempt stores the outcome of an attempt of delivery id, on the
// delivery and as its endpoint's last attempt, and releases the claim.
func (d *DB) RecordAttempt(ctx context.Context, id int64, a Attempt) error {
	status, next, done := DeliveryPending, msOrNil(a.NextAt), any(nil)
	switch {
	case a.Delivered:
		status, next, done = DeliveryDelivered, nil, toMS(a.At)
	case a.NextAt == nil:
		status, done = DeliveryDead, toMS(a.At)
	}
	var code any
	if a.Status != 0 {
		code = a.Status
	}
	tx, err := d.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("record webhook delivery %d: begin: %w", id, err)
	}
	defer tx.Rollback()
	var endpoint int64
	err = tx.QueryRowContext(ctx, `UPDATE webhook_deliveries SET status = $1, attempts = attempts + 1, next_at = $2,
		claimed_until = NULL, last_attempt_at = $3, last_status = $4, last_error = $5, done_at = $6
		WHERE id = $7 RETURNING endpoint_id`,
		status, next, toMS(a.At), code, a.Error, done, id).Scan(&endpoint)
	if err != nil {
		// Deleted with its endpoint while it was being sent: nothing to record.
		return notFound(err, "webhook delivery %d", id)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE webhook_endpoints SET last_attempt_at = $1, last_status = $2, last_error = $3
		WHERE id = $4`, toMS(a.At), code, a.Error, endpoint); err != nil {
		return fmt.Errorf("record webhook delivery %d on endpoint %d: %w", id, endpoint, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("record webhook delivery %d: commit: %w", id, err)
	}
	return nil
}

// ReleaseClaims drops every claim: at start, the claims of a process that
// died are no longer held by anyone, and waiting out their lease would
// only delay those deliveries.
func (d *DB) ReleaseClaims(ctx context.Context) error {
	if _, err := d.sql.ExecContext(ctx, `UPDATE webhook_deliveries SET claimed_until = NULL
		WHERE status = 'pending' AND claimed_until IS NOT NULL`); err != nil {
		return fmt.Errorf("release webhook delivery claims: %w", err)
	}
	return nil
}

// Deliveries returns up to limit deliveries of endpoint id, newest first.
func (d *DB) Deliveries(ctx context.Context, endpoint int64, limit int) ([]Delivery, error) {
	rows, err := d.sql.QueryContext(ctx, `SELECT `+deliveryColumns+` FROM webhook_deliveries d
		WHERE d.endpoint_id = $1 ORDER BY d.id DESC LIMIT $2`, endpoint, clampLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("list deliveries of webhook endpoint %d: %w", endpoint, err)
	}
	return collect(rows, func(row interface{ Scan(...any) error }) (Delivery, error) { return scanDelivery(row) },
		fmt.Sprintf("list deliveries of webhook endpoint %d", endpoint))
}

// DeliveryCounts returns how many deliveries are in each status, every
// status included (0 when none).
func (d *DB) DeliveryCounts(ctx context.Context) (map[string]int, error) {
	rows, err := d.sql.QueryContext(ctx, `SELECT status, COUNT(*) FROM webhook_deliveries GROUP BY status`)
	if err != nil {
		return nil, fmt.Errorf("count webhook deliveries: %w", err)
	}
	counts := map[string]int{DeliveryPending: 0, DeliveryDelivered: 0, DeliveryDead: 0}
	type pair struct {
		status string
		n      int
	}
	list, err := collect(rows, func(row interface{ Scan(...any) error }) (pair, error) {
		var p pair
		return p, row.Scan(&p.status, &p.n)
	}, "count webhook deliveries")
	for _, p := range list {
		counts[p.status] = p.n
	}
	return counts, err
}
