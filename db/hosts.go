package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Host is a host enrolled in fleet mode, as the control plane stores it.
// db keeps the agent's documents as JSON it does not read (package
// agentapi defines them; package fleet decodes them).
type Host struct {
	ID    int64
	Name  string
	Group string
	// PublicKey is base64 of the host's Ed25519 public key. PrevPublicKey
	// still verifies until PrevKeyUntil, after a rotation.
	PublicKey     string
	PrevPublicKey string
	PrevKeyUntil  *time.Time
	EnrolledAt    time.Time
	RevokedAt     *time.Time

	// From the last accepted report.
	AgentVersion string
	PollSeconds  int
	ObserveOnly  bool
	Report       []byte     // JSON agentapi.Observed; nil before the first report
	ReportedAt   *time.Time // the control plane's clock

	// Desired state.
	Generation int64
	Desired    []byte     // JSON agentapi.DesiredChange; nil: nothing to apply
	DesiredAt  *time.Time // when Generation was set
	Confirm    []int64    // generations whose commit-confirmed change is confirmed

	// The latest generation the agent reported a result for.
	Applied HostResult
}

// HostResult is what became of one generation on a host.
type HostResult struct {
	Generation int64
	State      string // agentapi.Result* ("" before any)
	Error      string
	At         *time.Time
	Deadline   *time.Time // the revert deadline of an unconfirmed change
}

const hostColumns = `id, name, group_name, public_key, prev_public_key, prev_key_until, enrolled_at,
	revoked_at, agent_version, poll_seconds, observe_only, report, reported_at, generation, desired,
	desired_at, confirm, applied_generation, applied_state, applied_error, applied_at, applied_deadline`

func scanHost(row interface{ Scan(...any) error }) (Host, error) {
	var h Host
	var enrolled int64
	var prevKey, report, desired sql.NullString
	var prevUntil, revoked, reported, desiredAt, appliedAt, deadline sql.NullInt64
	var observeOnly int64
	var confirm string
	err := row.Scan(&h.ID, &h.Name, &h.Group, &h.PublicKey, &prevKey, &prevUntil, &enrolled,
		&revoked, &h.AgentVersion, &h.PollSeconds, &observeOnly, &report, &reported, &h.Generation, &desired,
		&desiredAt, &confirm, &h.Applied.Generation, &h.Applied.State, &h.Applied.Error, &appliedAt, &deadline)
	if err != nil {
		return Host{}, err
	}
	h.EnrolledAt, h.PrevPublicKey, h.ObserveOnly = fromMS(enrolled), prevKey.String, observeOnly != 0
	h.PrevKeyUntil, h.RevokedAt, h.ReportedAt = timeOrNil(prevUntil), timeOrNil(revoked), timeOrNil(reported)
	h.DesiredAt, h.Applied.At, h.Applied.Deadline = timeOrNil(desiredAt), timeOrNil(appliedAt), timeOrNil(deadline)
	if report.Valid {
		h.Report = []byte(report.String)
	}
	if desired.Valid {
		h.Desired = []byte(desired.String)
	}
	if err := json.Unmarshal([]byte(confirm), &h.Confirm); err != nil {
		return Host{}, fmt.Errorf("host %q: decode confirmations: %w", h.Name, err)
	}
	return h, nil
}

// HostByName returns the host called name, revoked or not, or ErrNotFound.
func (d *DB) HostByName(ctx context.Context, name string) (Host, error) {
	h, err := scanHost(d.sql.QueryRowContext(ctx, `SELECT `+hostColumns+` FROM hosts WHERE name = $1`, name))
	return h, notFound(err, "host %q", name)
}

// HostQuery selects a page of hosts, ordered by name.
type HostQuery struct {
	Group string // "" for every group
	After string // the last name of the previous page ("" for the first)
	Limit int    // as for Changes
}

// Hosts returns a page of hosts, by name.
func (d *DB) Hosts(ctx context.Context, q HostQuery) ([]Host, error) {
	rows, err := d.sql.QueryContext(ctx, `SELECT `+hostColumns+` FROM hosts
		WHERE ($1 = '' OR group_name = $1) AND name > $2 ORDER BY name LIMIT $3`,
		q.Group, q.After, clampLimit(q.Limit))
	if err != nil {
		return nil, fmt.Errorf("list hosts: %w", err)
	}
	return collect(rows, scanHost, "list hosts")
}

// RevokeHost revokes host name from at on, with the audit event audit
// returns in the same transaction: its next request is refused, and only
// a new enrollment token brings it back. It returns ErrNotFound for an
// unknown host and ErrConflict for one already revoked.
func (d *DB) RevokeHost(ctx context.Context, name string, at time.Time, audit func(Host) AuditEvent) (Host, error) {
	return d.updateHost(ctx, "revoke host", name, audit,
		`UPDATE hosts SET revoked_at = $1 WHERE name = $2 AND revoked_at IS NULL RETURNING `+hostColumns,
		toMS(at), name)
}

// RotateHostKey replaces host name's key oldKey by newKey; oldKey keeps
// verifying until graceUntil. It returns ErrConflict when oldKey is not
// the current key (a rotation raced another) or the host is revoked.
func (d *DB) RotateHostKey(ctx context.Context, name, oldKey, newKey string, graceUntil time.Time, audit func(Host) AuditEvent) (Host, error) {
	return d.updateHost(ctx, "rotate key of host", name, audit, `UPDATE hosts
		SET prev_public_key = public_key, prev_key_until = $1, public_key = $2
		WHERE name = $3 AND public_key = $4 AND revoked_at IS NULL RETURNING `+hostColumns,
		toMS(graceUntil), newKey, name, oldKey)
}

// updateHost runs update (an UPDATE ... RETURNING hostColumns of host
// name) and the audit event in one transaction. No row updated is
// ErrNotFound when the host does not exist, else ErrConflict.
func (d *DB) updateHost(ctx context.Context, what, name string, audit func(Host) AuditEvent, update string, args ...any) (Host, error) {
	tx, err := d.sql.BeginTx(ctx, nil)
	if err != nil {
		return Host{}, fmt.Errorf("%s %q: begin: %w", what, name, err)
	}
	defer tx.Rollback()
	h, err := scanHost(tx.QueryRowContext(ctx, update, args...))
	if errors.Is(err, sql.ErrNoRows) {
		var id int64
		if err := tx.QueryRowContext(ctx, `SELECT id FROM hosts WHERE name = $1`, name).Scan(&id); err != nil {
			return Host{}, fmt.Errorf("%s: %w", what, notFound(err, "host %q", name))
		}
		return Host{}, fmt.Errorf("%s %q: %w", what, name, ErrConflict)
	}
	if err != nil {
		return Host{}, fmt.Errorf("%s %q: %w", what, name, err)
	}
	if err := auditIn(ctx, d, tx, audit, h); err != nil {
		return Host{}, fmt.Errorf("%s %q: %w", what, name, err)
	}
	if err := tx.Commit(); err != nil {
		return Host{}, fmt.Errorf("%s %q: commit: %w", what, name, err)
	}
	return h, nil
}

// SetDesired gives host name a new generation with change (JSON
// agentapi.DesiredChange, nil for none) from at on, with the audit event
// audit returns (may be nil) in the same transaction. It returns the
// host as updated: its Generation is the new one. ErrNotFound for an
// unknown host, ErrConflict for a revoked one.
func (d *DB) SetDesired(ctx context.Context, name string, change []byte, at time.Time, audit func(Host) AuditEvent) (Host, error) {
	var c any
	if change != nil {
		c = string(change)
	}
	return d.updateHost(ctx, "set desired state of host", name, audit, `UPDATE hosts
		SET generation = generation + 1, desired = $1, desired_at = $2
		WHERE name = $3 AND revoked_at IS NULL RETURNING `+hostColumns, c, toMS(at), name)
}

// maxConfirms bounds the generations remembered as confirmed: only the
// newest matter, since an agent acts on the current generation only.
const maxConfirms = 16

// ConfirmGeneration records that the commit-confirmed change of host
// name's generation gen is confirmed; the next long poll tells the agent.
func (d *DB) ConfirmGeneration(ctx context.Context, name string, gen int64) (Host, error) {
	tx, err := d.sql.BeginTx(ctx, nil)
	if err != nil {
		return Host{}, fmt.Errorf("confirm generation %d of host %q: begin: %w", gen, name, err)
	}
	defer tx.Rollback()
	h, err := lockedHost(ctx, tx, "name", name)
	if err != nil {
		return Host{}, fmt.Errorf("confirm generation %d: %w", gen, notFound(err, "host %q", name))
	}
	if !containsGen(h.Confirm, gen) {
		h.Confirm = append(h.Confirm, gen)
		if len(h.Confirm) > maxConfirms {
			h.Confirm = h.Confirm[len(h.Confirm)-maxConfirms:]
		}
		b, _ := json.Marshal(h.Confirm)
		if _, err := tx.ExecContext(ctx, `UPDATE hosts SET confirm = $1 WHERE id = $2`, string(b), h.ID); err != nil {
			return Host{}, fmt.Errorf("confirm generation %d of host %q: %w", gen, name, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return Host{}, fmt.Errorf("confirm generation %d of host %q: commit: %w", gen, name, err)
	}
	return h, nil
}

// lockedHost reads the host whose column col (id or name) is v, in tx,
// holding its row for the rest of tx: a read-modify-write of its JSON
// columns must not lose a concurrent one. SQLite's BEGIN IMMEDIATE holds
// the whole database already; on PostgreSQL the no-op UPDATE takes the
// row lock (portable, unlike SELECT ... FOR UPDATE).
func lockedHost(ctx context.Context, tx *sql.Tx, col string, v any) (Host, error) {
	if _, err := tx.ExecContext(ctx, `UPDATE hosts SET id = id WHERE `+col+` = $1`, v); err != nil {
		return Host{}, fmt.Errorf("lock host: %w", err)
	}
	return scanHost(tx.QueryRowContext(ctx, `SELECT `+hostColumns+` FROM hosts WHERE `+col+` = $1`, v))
}

func containsGen(gens []int64, g int64) bool {
	for _, x := range gens {
		if x == g {
			return true
		}
	}
	return false
}

// HostKey is what verifying a host's request needs of it.
type HostKey struct {
	ID            int64
	Name          string
	PublicKey     string
	PrevPublicKey string
	PrevKeyUntil  *time.Time
	RevokedAt     *time.Time
}

// HostKeyByName reads host name's keys and revocation, or ErrNotFound:
// every agent request asks, so it reads nothing else.
func (d *DB) HostKeyByName(ctx context.Context, name string) (HostKey, error) {
	var k HostKey
	var prev sql.NullString
	var until, revoked sql.NullInt64
	err := d.sql.QueryRowContext(ctx, `SELECT id, name, public_key, prev_public_key, prev_key_until, revoked_at
		FROM hosts WHERE name = $1`, name).Scan(&k.ID, &k.Name, &k.PublicKey, &prev, &until, &revoked)
	if err != nil {
		return HostKey{}, notFound(err, "host %q", name)
	}
	k.PrevPublicKey, k.PrevKeyUntil, k.RevokedAt = prev.String, timeOrNil(until), timeOrNil(revoked)
	return k, nil
}
