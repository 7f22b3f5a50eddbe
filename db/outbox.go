package db

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"slices"
	"strings"
)

// The webhook outbox. An event a webhook may announce is recorded as an
// audit event; in the same transaction, appendEvent asks the Notifier
// which webhook events it raises and writes one delivery row per enabled
// endpoint subscribed to each. So an event is never recorded without its
// deliveries nor a delivery queued for an event that was rolled back, and
// a crash after the commit loses nothing: the worker finds the rows at the
// next start. The Notifier lives above db (package webhook builds the
// bodies); db only stores what it returns.

// Notice is one webhook event to deliver, with its body in each format an
// endpoint may ask for.
type Notice struct {
	Type     string // e.g. "change.applied"
	Body     []byte // the Standard Webhooks JSON body
	ChatBody []byte // a Slack/Mattermost incoming-webhook body
}

// Recorded is what a transaction records, as the Notifier sees it.
type Recorded struct {
	Event   AuditEvent // as stored: ID and At set
	Changes []Change   // the changes the transaction wrote, as stored
	// Facts are the figures of a monitor event (drift, risk), which have
	// no change row to read them from.
	Facts map[string]any
}

// Notifier turns what a transaction records into the webhook events it
// raises (none for most). It runs inside the transaction, holding the
// write lock: it must be quick and must not use the database.
type Notifier func(Recorded) []Notice

// SetNotifier sets the function that decides which webhook events an
// audit event raises. Set it before anything is recorded (serve does so
// right after Open); without one, no deliveries are queued.
func (d *DB) SetNotifier(n Notifier) { d.notify = n }

// Delivery formats of an endpoint.
const (
	FormatStandard = "standard" // Standard Webhooks JSON
	FormatChat     = "chat"     // {"text": ...} for Slack or Mattermost
)

// Delivery statuses.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryDead      = "dead"
)

// appendEvent appends r.Event to the audit log and queues the deliveries
// it raises, in tx. Every audit event goes through here, so none can skip
// the outbox.
func (d *DB) appendEvent(ctx context.Context, tx *sql.Tx, r Recorded) (AuditEvent, error) {
	e, err := d.appendAudit(ctx, tx, r.Event)
	if err != nil {
		return AuditEvent{}, err
	}
	if d.notify == nil {
		return e, nil
	}
	r.Event = e
	notices := d.notify(r)
	if len(notices) == 0 {
		return e, nil
	}
	targets, err := subscribers(ctx, tx)
	if err != nil {
		return AuditEvent{}, fmt.Errorf("queue webhooks of %q: %w", e.Action, err)
	}
	for _, n := range notices {
		for _, t := range targets {
			if !slices.Contains(t.events, n.Type) {
				continue
			}
			if err := enqueue(ctx, tx, t.id, t.format, e, n); err != nil {
				return AuditEvent{}, fmt.Errorf("queue webhook %s of %q for endpoint %d: %w", n.Type, e.Action, t.id, err)
			}
		}
	}
	return e, nil
}

type subscriber struct {
	id     int64
	format string
	events []string
}

func subscribers(ctx context.Context, tx *sql.Tx) ([]subscriber, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, format, events FROM webhook_endpoints WHERE enabled = 1 ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list endpoints: %w", err)
	}
	return collect(rows, func(row interface{ Scan(...any) error }) (subscriber, error) {
		var s subscriber
		var events string
		err := row.Scan(&s.id, &s.format, &events)
		s.events = strings.Fields(events)
		return s, err
	}, "list endpoints")
}

// enqueue writes one delivery of n to endpoint id, due at once.
func enqueue(ctx context.Context, tx *sql.Tx, endpoint int64, format string, e AuditEvent, n Notice) error {
	body := n.Body
	if format == FormatChat {
		body = n.ChatBody
	}
	if len(body) == 0 {
		return fmt.Errorf("no %s body", format)
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO webhook_deliveries
		(endpoint_id, msg_id, event_type, audit_id, body, created_at, next_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		endpoint, newMsgID(), n.Type, e.ID, body, toMS(e.At), toMS(e.At))
	return err
}

// newMsgID is a webhook-id: "msg_" and 128 random bits (crypto/rand.Text,
// base32), unique across databases, so a receiver's duplicate check never
// mistakes two events for one.
func newMsgID() string { return "msg_" + rand.Text() }
