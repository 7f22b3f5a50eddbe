package db

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// changeMarksQuery reads, for each range of a JSON array of [low, high]
// pairs, its changes created since, down changes_range_created_at_idx: the
// rows read are the changes a marker could link to, bounded by the window,
// never by the length of the history. It reads only the columns linking
// needs, not the diffs and file copies a full change row carries.
const changeMarksQuery = `SELECT id, status, low, high, created_at, updated_at FROM changes
	WHERE (low, high) IN (SELECT value ->> 0, value ->> 1 FROM json_each(?)) AND created_at >= ?
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

// ChangeMarks returns up to limit changes created at or after since that
// set one of ranges ([low, high] pairs), newest first, for linking chart
// markers to their changes. Limits as for Changes.
func (d *DB) ChangeMarks(ctx context.Context, since time.Time, ranges [][2]int, limit int) ([]ChangeMark, error) {
	what := "list change marks since " + since.UTC().Format(time.RFC3339)
	if len(ranges) == 0 {
		return nil, nil
	}
	list, err := json.Marshal(ranges)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	rows, err := d.sql.QueryContext(ctx, changeMarksQuery, string(list), ceilMS(since), clampLimit(limit))
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
