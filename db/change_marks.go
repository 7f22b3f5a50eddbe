package db

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// changeMarksQuery reads, for each of n ranges ($3, $4 the first's low and
// high, and so on), its changes created since $1, down
// changes_range_created_at_idx: the rows read are the changes a marker
// could link to, bounded by the window, never by the length of the
// history. It reads only the columns linking needs, not the diffs and
// file copies a full change row carries.
//
// The ranges are a VALUES list, the one form of a list of pairs both
// SQLite (whose row-value IN wants a subquery on its right) and
// PostgreSQL accept; the casts type the arguments for PostgreSQL, which
// would otherwise take them for text.
func changeMarksQuery(n int) string {
	var b strings.Builder
	b.WriteString(`SELECT id, status, low, high, created_at, updated_at FROM changes
	WHERE (low, high) IN (VALUES `)
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "(CAST($%d AS BIGINT), CAST($%d AS BIGINT))", 3+2*i, 4+2*i)
	}
	b.WriteString(`) AND created_at >= $1
	ORDER BY created_at DESC, id DESC LIMIT $2`)
	return b.String()
}

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
	args := make([]any, 0, 2+2*len(ranges))
	args = append(args, ceilMS(since), clampLimit(limit))
	for _, r := range ranges {
		args = append(args, r[0], r[1])
	}
	rows, err := d.sql.QueryContext(ctx, changeMarksQuery(len(ranges)), args...)
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
