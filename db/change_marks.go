package db

import (
	"context"
	"fmt"
	"time"
)

// changeMarksQuery walks changes_created_at_idx from the newest change
// back to since: the rows read are bounded by the window and the limit,
// never by the length of the history. (Ordered by id, the planner scans
// the primary key and filters on created_at, reading every older change
// when fewer than the limit fall in the window.) It returns only changes
// whose range a sample of source "change" in the window recorded, the
// only ones a marker can link to, and only the columns linking needs, not
// the diffs and file copies a full change row carries: a 30-day page read
// a thousand full rows to link a few.
const changeMarksQuery = `SELECT id, status, low, high, created_at, updated_at FROM changes
	WHERE created_at >= ? AND (low, high) IN (SELECT low, high FROM samples WHERE source = 'change' AND at >= ?)
	ORDER BY created_at DESC, id DESC LIMIT ?`

// ChangeMark is what a chart needs of a change to link a marker to it:
// a tenth of a full Change's size, which a 30-day history page reads a
// thousand of.
type ChangeMark struct {
	ID                   int64
	Status               string
	Low, High            int
	CreatedAt, UpdatedAt time.Time
}

// ChangeMarks returns up to limit changes created at or after since whose
// range a sample of source "change" taken at or after from recorded,
// newest first, for linking the markers of a chart from from on to their
// changes. Limits as for Changes.
func (d *DB) ChangeMarks(ctx context.Context, since, from time.Time, limit int) ([]ChangeMark, error) {
	what := "list change marks since " + since.UTC().Format(time.RFC3339)
	rows, err := d.sql.QueryContext(ctx, changeMarksQuery, ceilMS(since), toMS(from), clampLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return collect(rows, scanChangeMark, what)
}

func scanChangeMark(row interface{ Scan(...any) error }) (ChangeMark, error) {
	var c ChangeMark
	var created, updated int64
	if err := row.Scan(&c.ID, &c.Status, &c.Low, &c.High, &created, &updated); err != nil {
		return ChangeMark{}, err
	}
	c.CreatedAt, c.UpdatedAt = fromMS(created), fromMS(updated)
	return c, nil
}
