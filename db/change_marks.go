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
// when fewer than the limit fall in the window.) It reads only the columns
// a chart needs to link a marker to its change, not the diffs and file
// copies a full change row carries.
const changeMarksQuery = `SELECT id, status, low, high, created_at, updated_at FROM changes
	WHERE created_at >= ? ORDER BY created_at DESC, id DESC LIMIT ?`

// ChangeMarks returns up to limit changes created at or after since,
// newest first, for linking chart markers to changes: only ID, Status,
// Low, High, CreatedAt and UpdatedAt are set. Limits as for Changes.
func (d *DB) ChangeMarks(ctx context.Context, since time.Time, limit int) ([]Change, error) {
	what := "list change marks since " + since.UTC().Format(time.RFC3339)
	rows, err := d.sql.QueryContext(ctx, changeMarksQuery, ceilMS(since), clampLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return collect(rows, scanChangeMark, what)
}

func scanChangeMark(row interface{ Scan(...any) error }) (Change, error) {
	var c Change
	var created, updated int64
	if err := row.Scan(&c.ID, &c.Status, &c.Low, &c.High, &created, &updated); err != nil {
		return Change{}, err
	}
	c.CreatedAt, c.UpdatedAt = fromMS(created), fromMS(updated)
	return c, nil
}
