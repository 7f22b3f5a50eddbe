package db

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// HostPreview is a preview the control plane asked a host's agent for,
// and its answer once it came.
type HostPreview struct {
	ID         string
	HostID     int64
	Keys       []byte // JSON map of key to value
	CreatedAt  time.Time
	Answer     []byte // JSON agentapi.PreviewResult; nil until answered
	AnsweredAt *time.Time
}

const previewColumns = `id, host_id, keys, created_at, answer, answered_at`

func scanPreview(row interface{ Scan(...any) error }) (HostPreview, error) {
	var p HostPreview
	var keys string
	var created int64
	var answer sql.NullString
	var answered sql.NullInt64
	if err := row.Scan(&p.ID, &p.HostID, &keys, &created, &answer, &answered); err != nil {
		return HostPreview{}, err
	}
	p.Keys, p.CreatedAt, p.AnsweredAt = []byte(keys), fromMS(created), timeOrNil(answered)
	if answer.Valid {
		p.Answer = []byte(answer.String)
	}
	return p, nil
}

// AddPreview queues preview p (ID chosen by the caller, unguessable) for
// its host.
func (d *DB) AddPreview(ctx context.Context, p HostPreview) (HostPreview, error) {
	p.CreatedAt, p.Answer, p.AnsweredAt = orNow(p.CreatedAt), nil, nil
	_, err := d.sql.ExecContext(ctx, `INSERT INTO host_previews (id, host_id, keys, created_at) VALUES ($1, $2, $3, $4)`,
		p.ID, p.HostID, string(p.Keys), toMS(p.CreatedAt))
	if err != nil {
		return HostPreview{}, fmt.Errorf("queue preview for host %d: %w", p.HostID, err)
	}
	return p, nil
}

// Preview returns preview id, or ErrNotFound.
func (d *DB) Preview(ctx context.Context, id string) (HostPreview, error) {
	p, err := scanPreview(d.sql.QueryRowContext(ctx, `SELECT `+previewColumns+` FROM host_previews WHERE id = $1`, id))
	return p, notFound(err, "preview")
}

// AnswerPreview stores host hostID's answer to its preview id. A preview
// of another host, or one answered already, is ErrNotFound: a host
// answers only for itself, once.
func (d *DB) AnswerPreview(ctx context.Context, hostID int64, id string, answer []byte, at time.Time) error {
	res, err := d.sql.ExecContext(ctx, `UPDATE host_previews SET answer = $1, answered_at = $2
		WHERE id = $3 AND host_id = $4 AND answered_at IS NULL`, string(answer), toMS(at), id, hostID)
	if err != nil {
		return fmt.Errorf("store preview answer of host %d: %w", hostID, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return notFound(errNoRowsOr(err), "pending preview of host %d", hostID)
	}
	return nil
}

func errNoRowsOr(err error) error {
	if err != nil {
		return err
	}
	return sql.ErrNoRows
}

// PrunePreviews deletes previews asked before before.
func (d *DB) PrunePreviews(ctx context.Context, before time.Time) (int, error) {
	return d.deleteCounted(ctx, "prune previews", `DELETE FROM host_previews WHERE created_at < $1`, toMS(before))
}
