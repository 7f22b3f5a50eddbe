package db

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// HostPoll is what answering a host's long poll needs of it, and no more:
// the report, by far the row's largest column, stays in the database.
type HostPoll struct {
	Generation int64
	Desired    []byte // JSON agentapi.DesiredChange; nil: nothing to apply
	Confirm    []int64
	Revoked    bool
	// PreviewDue says a preview waits that OfferPreviews would hand out.
	PreviewDue bool
}

// PreviewOffer selects the previews a poll may hand its agent: unanswered,
// asked at or after Since, and never offered or last offered at or before
// Again.
type PreviewOffer struct {
	Since, Again time.Time
}

// HostPollState reads host id's poll state in one statement.
func (d *DB) HostPollState(ctx context.Context, id int64, o PreviewOffer) (HostPoll, error) {
	var p HostPoll
	var desired sql.NullString
	var confirm string
	var revoked, due int
	err := d.sql.QueryRowContext(ctx, `SELECT h.generation, h.desired, h.confirm,
		CASE WHEN h.revoked_at IS NULL THEN 0 ELSE 1 END,
		CASE WHEN EXISTS (SELECT 1 FROM host_previews p WHERE p.host_id = h.id AND p.answered_at IS NULL
			AND p.created_at >= $2 AND (p.offered_at IS NULL OR p.offered_at <= $3)) THEN 1 ELSE 0 END
		FROM hosts h WHERE h.id = $1`, id, toMS(o.Since), toMS(o.Again)).Scan(&p.Generation, &desired, &confirm, &revoked, &due)
	if err != nil {
		return HostPoll{}, fmt.Errorf("read poll state: %w", notFound(err, "host %d", id))
	}
	p.Revoked, p.PreviewDue = revoked != 0, due != 0
	if desired.Valid {
		p.Desired = []byte(desired.String)
	}
	if err := json.Unmarshal([]byte(confirm), &p.Confirm); err != nil {
		return HostPoll{}, fmt.Errorf("host %d: decode confirmations: %w", id, err)
	}
	return p, nil
}

// OfferPreviews marks host id's previews that o selects as offered at at
// and returns them, oldest first: the statement that picks them also
// marks them, so two polls of one host (on two replicas, say) do not both
// hand one out, and a preview its agent does not answer waits until o's
// Again passes it before it is offered again.
func (d *DB) OfferPreviews(ctx context.Context, id int64, o PreviewOffer, at time.Time) ([]HostPreview, error) {
	rows, err := d.sql.QueryContext(ctx, `UPDATE host_previews SET offered_at = $4
		WHERE host_id = $1 AND answered_at IS NULL AND created_at >= $2 AND (offered_at IS NULL OR offered_at <= $3)
		RETURNING `+previewColumns, id, toMS(o.Since), toMS(o.Again), toMS(at))
	if err != nil {
		return nil, fmt.Errorf("offer previews of host %d: %w", id, err)
	}
	ps, err := collect(rows, scanPreview, "offer previews")
	// RETURNING has no ORDER BY.
	slices.SortFunc(ps, func(a, b HostPreview) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.ID, b.ID))
	})
	return ps, err
}
