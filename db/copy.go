package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrTargetNotEmpty is Copy's refusal to write into a store that holds
// data: a copy merged into another panel's rows would mix two histories
// and break the audit chain.
var ErrTargetNotEmpty = errors.New("the target database is not empty")

// CopyReport is what Copy moved.
type CopyReport struct {
	Tables []TableCount // every table, in the order copied
	Audit  int          // audit events verified on the target
}

// TableCount is how many rows of a table were copied.
type TableCount struct {
	Name string
	Rows int
}

// copyBatch bounds the rows of one INSERT: PostgreSQL takes at most 65535
// arguments a statement, and the widest table has under 60 columns.
const copyBatch = 500

// Copy copies every table of from into to, row by row with every column,
// ids kept, then moves to's id sequences past the copied ids and verifies
// the audit chain on to. Both are migrated to the same version by Open;
// every table is found in the schema, not listed here, so a table added
// by a later migration is copied too. to must be empty (no row in any
// table), or Copy refuses with ErrTargetNotEmpty. It writes to in one
// transaction, so a failure leaves it empty, and reads from in one, so
// the copy is one consistent state of it: stop serve on from first, as it
// would otherwise wait on that transaction.
func Copy(ctx context.Context, from, to *DB) (CopyReport, error) {
	var r CopyReport
	tables, err := from.Schema(ctx)
	if err != nil {
		return r, fmt.Errorf("copy: read the source's tables: %w", err)
	}
	target, err := to.Schema(ctx)
	if err != nil {
		return r, fmt.Errorf("copy: read the target's tables: %w", err)
	}
	if err := sameSchema(tables, target); err != nil {
		return r, fmt.Errorf("copy: %w", err)
	}
	if tables, err = byReferences(tables); err != nil {
		return r, fmt.Errorf("copy: %w", err)
	}
	for _, t := range tables {
		var hasRows bool
		if err := to.sql.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM `+t.Name+`)`).Scan(&hasRows); err != nil {
			return r, fmt.Errorf("copy: look into the target's %s: %w", t.Name, err)
		}
		if hasRows {
			return r, fmt.Errorf("copy: table %s has rows: %w", t.Name, ErrTargetNotEmpty)
		}
	}

	src, err := from.sql.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return r, fmt.Errorf("copy: begin reading: %w", err)
	}
	defer src.Rollback()
	dst, err := to.sql.BeginTx(ctx, nil)
	if err != nil {
		return r, fmt.Errorf("copy: begin writing: %w", err)
	}
	defer dst.Rollback()
	for _, t := range tables {
		n, err := copyTable(ctx, src, dst, t)
		if err != nil {
			return r, fmt.Errorf("copy table %s: %w", t.Name, err)
		}
		r.Tables = append(r.Tables, TableCount{Name: t.Name, Rows: n})
	}
	if err := to.resetSequences(ctx, dst); err != nil {
		return r, fmt.Errorf("copy: %w", err)
	}
	if err := dst.Commit(); err != nil {
		return r, fmt.Errorf("copy: commit: %w", err)
	}
	if r.Audit, err = to.VerifyAudit(ctx); err != nil {
		return r, fmt.Errorf("copy: the audit chain on the target: %w", err)
	}
	return r, nil
}

// sameSchema says how two stores' tables differ, if they do.
func sameSchema(from, to []Table) error {
	find := func(ts []Table, name string) *Table {
		i := slices.IndexFunc(ts, func(t Table) bool { return t.Name == name })
		if i < 0 {
			return nil
		}
		return &ts[i]
	}
	for _, f := range from {
		t := find(to, f.Name)
		switch {
		case t == nil:
			return fmt.Errorf("the target has no table %s (are both at the same portpanel version?)", f.Name)
		case !slices.Equal(f.Columns, t.Columns):
			return fmt.Errorf("table %s has columns %v in the source, %v in the target", f.Name, f.Columns, t.Columns)
		}
	}
	for _, t := range to {
		if find(from, t.Name) == nil {
			return fmt.Errorf("the source has no table %s (are both at the same portpanel version?)", t.Name)
		}
	}
	return nil
}

// byReferences orders tables so that each comes after the tables it
// references, as the target's foreign keys check every row inserted.
func byReferences(tables []Table) ([]Table, error) {
	var out []Table
	done := map[string]bool{}
	for len(out) < len(tables) {
		progress := false
		for _, t := range tables {
			if done[t.Name] {
				continue
			}
			ready := true
			for _, ref := range t.References {
				if ref != t.Name && !done[ref] {
					ready = false
				}
			}
			if ready {
				out, done[t.Name], progress = append(out, t), true, true
			}
		}
		if !progress {
			return nil, errors.New("the tables' foreign keys form a cycle")
		}
	}
	return out, nil
}

// copyTable copies t's rows, in id order where it has ids (a change's
// rollback_of names an earlier change), in batches of copyBatch.
func copyTable(ctx context.Context, src, dst *sql.Tx, t Table) (int, error) {
	cols := strings.Join(t.Columns, ", ")
	query := `SELECT ` + cols + ` FROM ` + t.Name
	if slices.Contains(t.Columns, "id") {
		query += ` ORDER BY id`
	}
	rows, err := src.QueryContext(ctx, query)
	if err != nil {
		return 0, fmt.Errorf("read: %w", err)
	}
	defer rows.Close()
	n := 0
	batch := make([]any, 0, copyBatch*len(t.Columns))
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		var b strings.Builder
		b.WriteString(`INSERT INTO ` + t.Name + ` (` + cols + `) VALUES `)
		for i := 0; i < len(batch); i += len(t.Columns) {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(" + params(i+1, len(t.Columns)) + ")")
		}
		if _, err := dst.ExecContext(ctx, b.String(), batch...); err != nil {
			return fmt.Errorf("write: %w", err)
		}
		batch = batch[:0]
		return nil
	}
	for rows.Next() {
		vals := make([]any, len(t.Columns))
		ptrs := make([]any, len(t.Columns))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return n, fmt.Errorf("read: %w", err)
		}
		for i, v := range vals {
			// modernc hands an empty BLOB over as a nil []byte, which
			// pgx would write as NULL: "an empty file" would become "no
			// file". A NULL arrives as a nil interface, not a []byte.
			if b, ok := v.([]byte); ok && b == nil {
				vals[i] = []byte{}
			}
		}
		batch = append(batch, vals...)
		n++
		if n%copyBatch == 0 {
			if err := flush(); err != nil {
				return n, err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return n, fmt.Errorf("read: %w", err)
	}
	return n, flush()
}

// resetSequences moves every identity column's sequence past the largest
// id copied, so the next row the store numbers itself does not collide
// with a copied one. SQLite needs nothing: its next rowid follows the
// largest present (and AUTOINCREMENT's counter is a table it keeps).
func (d *DB) resetSequences(ctx context.Context, tx *sql.Tx) error {
	if d.dialect != Postgres {
		return nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT table_name, column_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND is_identity = 'YES' ORDER BY table_name`)
	if err != nil {
		return fmt.Errorf("list identity columns: %w", err)
	}
	type ident struct{ table, column string }
	list, err := collect(rows, func(row interface{ Scan(...any) error }) (ident, error) {
		var i ident
		return i, row.Scan(&i.table, &i.column)
	}, "list identity columns")
	if err != nil {
		return err
	}
	for _, i := range list {
		// is_called false with MAX+1: the next value is MAX+1, and 1 for
		// an empty table, where setval refuses 0.
		_, err := tx.ExecContext(ctx, `SELECT setval(pg_get_serial_sequence($1, $2),
			(SELECT COALESCE(MAX(`+i.column+`), 0) + 1 FROM `+i.table+`), false)`, i.table, i.column)
		if err != nil {
			return fmt.Errorf("reset the sequence of %s.%s: %w", i.table, i.column, err)
		}
	}
	return nil
}
