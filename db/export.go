package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Filter narrows the audit log or the change history for listing and
// export. Rows are matched on their time (audit at, change created_at).
type Filter struct {
	From, To time.Time // From inclusive, To exclusive; zero: open
	User     string    // "" matches any user (the system included)
}

// where returns f as SQL conditions on a table whose time column is
// timeCol, each starting with " AND ", and args with their arguments
// appended (the placeholders number on from len(args)). Absent bounds
// are left out rather than replaced by extremes, so the planner sees only
// the conditions that narrow something.
func (f Filter) where(timeCol string, args []any) (string, []any) {
	var b strings.Builder
	// Rounded up: times are stored in whole ms, so a bound between two ms
	// must admit (From) or exclude (To) the ms it falls in exactly as the
	// unrounded bound would.
	if !f.From.IsZero() {
		args = append(args, ceilMS(f.From))
		b.WriteString(" AND " + timeCol + " >= " + param(len(args)))
	}
	if !f.To.IsZero() {
		args = append(args, ceilMS(f.To))
		b.WriteString(" AND " + timeCol + " < " + param(len(args)))
	}
	if f.User != "" {
		args = append(args, f.User)
		b.WriteString(" AND user_name = " + param(len(args)))
	}
	return b.String(), args
}

func ceilMS(t time.Time) int64 {
	ms := toMS(t)
	if fromMS(ms).Before(t) {
		ms++
	}
	return ms
}

// listing describes a table the filtered queries read.
type listing[T any] struct {
	table, columns, timeCol, what string
	scan                          func(interface{ Scan(...any) error }) (T, error)
	id                            func(T) int64
}

var (
	auditListing = listing[AuditEvent]{table: "audit_events", columns: auditColumns,
		timeCol: "at", what: "audit events", scan: scanAudit, id: func(e AuditEvent) int64 { return e.ID }}
	changeListing = listing[Change]{table: "changes", columns: changeColumns,
		timeCol: "created_at", what: "changes", scan: scanChange, id: func(c Change) int64 { return c.ID }}
)

// exportPage is how many rows EachAudit and EachChange hold at once.
const exportPage = 500

// AuditFiltered returns up to limit audit events matching f, newest first,
// with ids below beforeID (0: from the newest). Limits as for Changes.
func (d *DB) AuditFiltered(ctx context.Context, f Filter, limit int, beforeID int64) ([]AuditEvent, error) {
	return auditListing.page(ctx, d.sql, f, limit, beforeID)
}

// ChangesFiltered returns up to limit changes matching f, newest first,
// with ids below beforeID (0: from the newest). Limits as for Changes.
func (d *DB) ChangesFiltered(ctx context.Context, f Filter, limit int, beforeID int64) ([]Change, error) {
	return changeListing.page(ctx, d.sql, f, limit, beforeID)
}

// EachAudit calls fn for every audit event matching f, oldest first (chain
// order), and stops at fn's first error, which it returns unwrapped.
func (d *DB) EachAudit(ctx context.Context, f Filter, fn func(AuditEvent) error) error {
	return auditListing.each(ctx, d.sql, f, fn)
}

// EachChange calls fn for every change matching f, oldest first, and stops
// at fn's first error, which it returns unwrapped.
func (d *DB) EachChange(ctx context.Context, f Filter, fn func(Change) error) error {
	return changeListing.each(ctx, d.sql, f, fn)
}

// page reads one page newest first. Without a time bound it pages by id,
// down the primary key or the user index from the cursor.
//
// With a time bound it pages by (time, id) instead, down the time index
// (or the user-and-time one), starting from the cursor row's position in
// it. Paging by id there would leave SQLite two bad plans: walk the
// primary key through every row outside the window (the whole table for
// an old window), or read the whole window through the time index and
// sort it (0.6 to 2 s for 300 days of 1M rows). Translating the window to
// an id range instead would assume that ids and times grow together; they
// nearly do, but neither table guarantees it (a clock stepping back, a
// caller-given time, RecordChange taking its time before it waits for the
// write lock), and that assumption would silently drop rows. Ordered by
// (time, id), every matching row is still listed once, in the same order
// as by id wherever times grow with ids, which is every seeded and
// ordinary history.
func (l listing[T]) page(ctx context.Context, q *sql.DB, f Filter, limit int, beforeID int64) ([]T, error) {
	var cursorAt *int64
	if f.timed() && beforeID > 0 {
		// The cursor is an id (the last row shown); its place in time
		// order is its time. An id that is not there (hand-edited URL)
		// stands for the nearest row below it, as id < before would.
		var at int64
		err := q.QueryRowContext(ctx, `SELECT `+l.timeCol+` FROM `+l.table+
			` WHERE id <= $1 ORDER BY id DESC LIMIT 1`, beforeID).Scan(&at)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("list %s: find cursor %d: %w", l.what, beforeID, err)
		}
		cursorAt = &at
	}
	query, args := l.pageQuery(f, limit, beforeID, cursorAt)
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", l.what, err)
	}
	return collect(rows, l.scan, "list "+l.what)
}

// timed reports whether f bounds the time, which makes page order by it.
func (f Filter) timed() bool { return !f.From.IsZero() || !f.To.IsZero() }

// pageQuery is page's query. cursorAt is the time of the cursor row when f
// is timed and there is a cursor, else nil.
func (l listing[T]) pageQuery(f Filter, limit int, beforeID int64, cursorAt *int64) (string, []any) {
	if !f.timed() {
		cond, args := f.where(l.timeCol, []any{beforeOrMax(beforeID)})
		args = append(args, clampLimit(limit))
		return `SELECT ` + l.columns + ` FROM ` + l.table + ` WHERE id < $1` + cond +
			` ORDER BY id DESC LIMIT ` + param(len(args)), args
	}
	cursored := false
	if cursorAt != nil {
		to := ceilMS(f.To)
		if f.To.IsZero() || *cursorAt < to {
			// The cursor is the tighter upper bound, so To is left out:
			// SQLite ranges an index scan on one upper bound only, and
			// starting it at To would walk every row between To and the
			// cursor on each deeper page.
			f.To = time.Time{}
			cursored = true
		}
		// Otherwise every row before To is before the cursor too.
	}
	cond, args := f.where(l.timeCol, nil)
	if cursored {
		args = append(args, *cursorAt, beforeID)
		cond += ` AND (` + l.timeCol + `, id) < (` + param(len(args)-1) + `, ` + param(len(args)) + `)`
	}
	args = append(args, clampLimit(limit))
	return `SELECT ` + l.columns + ` FROM ` + l.table + ` WHERE 1 = 1` + cond +
		` ORDER BY ` + l.timeCol + ` DESC, id DESC LIMIT ` + param(len(args)), args
}

// each reads the matching rows in pages of exportPage by id (keyset), so
// memory stays flat for any table size. Each page is read whole and its
// statement closed before fn sees a row: a slow consumer (an HTTP client
// reading a CSV) then holds no read transaction, which would stop the WAL
// from being checkpointed.
//
// The matching ids are bounded first (through the time index when f has
// a time bound), so a narrow window of a long log pages through that
// window's ids, not the whole table. The upper bound also makes the
// export a consistent prefix: rows added while it runs are left out
// instead of appearing in some pages.
func (l listing[T]) each(ctx context.Context, q *sql.DB, f Filter, fn func(T) error) error {
	what := "export " + l.what
	cond, args := f.where(l.timeCol, nil)
	// Two subqueries, not MIN(id), MAX(id) in one: SQLite answers a lone
	// MIN or MAX from one end of an index, but scans for both together.
	var first, last sql.NullInt64
	bound := `FROM ` + l.table + ` WHERE 1 = 1` + cond
	// Both read the same numbered arguments.
	err := q.QueryRowContext(ctx, `SELECT (SELECT MIN(id) `+bound+`), (SELECT MAX(id) `+bound+`)`,
		args...).Scan(&first, &last)
	if err != nil {
		return fmt.Errorf("%s: bound ids: %w", what, err)
	}
	if !last.Valid {
		return nil
	}
	cond, args = f.where(l.timeCol, []any{first.Int64 - 1, last.Int64})
	query := `SELECT ` + l.columns + ` FROM ` + l.table + ` WHERE id > $1 AND id <= $2` + cond +
		` ORDER BY id LIMIT ` + fmt.Sprint(exportPage)
	page := make([]T, 0, exportPage)
	for {
		rows, err := q.QueryContext(ctx, query, args...)
		if err != nil {
			return fmt.Errorf("%s after id %d: %w", what, args[0], err)
		}
		if page, err = appendRows(page[:0], rows, l.scan); err != nil {
			return fmt.Errorf("%s after id %d: %w", what, args[0], err)
		}
		for _, v := range page {
			if err := fn(v); err != nil {
				return err
			}
		}
		if len(page) < exportPage {
			return nil
		}
		args[0] = l.id(page[len(page)-1])
	}
}

// appendRows is collect reusing dst's storage, so paging allocates the
// page once.
func appendRows[T any](dst []T, rows *sql.Rows, scan func(interface{ Scan(...any) error }) (T, error)) ([]T, error) {
	defer rows.Close()
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return dst, err
		}
		dst = append(dst, v)
	}
	return dst, rows.Err()
}
