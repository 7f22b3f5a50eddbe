package db

import (
	"context"
	"fmt"
	"slices"
)

// Table is a table of portpanel's schema: its columns, in order, and the
// tables its foreign keys reference, sorted.
type Table struct {
	Name       string
	Columns    []string
	References []string
}

// schemaQuery lists (table, column) in table then column order, skipping
// the stores' own tables (goose's version table, SQLite's internals, and
// PostgreSQL's data_version: Memo's counter, kept by triggers and not
// data to copy, SQLite has none).
var schemaQuery = map[Dialect]string{
	SQLite: `SELECT m.name, p.name FROM sqlite_schema m, pragma_table_info(m.name) p
		WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\_%' ESCAPE '\' AND m.name <> 'goose_db_version'
		ORDER BY m.name, p.cid`,
	Postgres: `SELECT table_name, column_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name NOT IN ('goose_db_version', 'data_version')
		ORDER BY table_name COLLATE "C", ordinal_position`,
}

// referencesQuery lists (table, table it references) pairs.
var referencesQuery = map[Dialect]string{
	SQLite: `SELECT DISTINCT m.name, f."table" FROM sqlite_schema m, pragma_foreign_key_list(m.name) f
		WHERE m.type = 'table'`,
	Postgres: `SELECT DISTINCT tc.table_name, ccu.table_name FROM information_schema.table_constraints tc
		JOIN information_schema.constraint_column_usage ccu
			ON ccu.constraint_schema = tc.constraint_schema AND ccu.constraint_name = tc.constraint_name
		WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = current_schema()`,
}

// Schema lists d's tables, by name, with their columns in the order they
// were made: what db copy moves, and what a test compares across stores.
func (d *DB) Schema(ctx context.Context) ([]Table, error) {
	rows, err := d.sql.QueryContext(ctx, schemaQuery[d.dialect])
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	defer rows.Close()
	var out []Table
	for rows.Next() {
		var table, column string
		if err := rows.Scan(&table, &column); err != nil {
			return nil, fmt.Errorf("list tables: %w", err)
		}
		if len(out) == 0 || out[len(out)-1].Name != table {
			out = append(out, Table{Name: table})
		}
		out[len(out)-1].Columns = append(out[len(out)-1].Columns, column)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	refs, err := d.sql.QueryContext(ctx, referencesQuery[d.dialect])
	if err != nil {
		return nil, fmt.Errorf("list foreign keys: %w", err)
	}
	defer refs.Close()
	for refs.Next() {
		var table, ref string
		if err := refs.Scan(&table, &ref); err != nil {
			return nil, fmt.Errorf("list foreign keys: %w", err)
		}
		if i := slices.IndexFunc(out, func(t Table) bool { return t.Name == table }); i >= 0 {
			out[i].References = append(out[i].References, ref)
			slices.Sort(out[i].References)
		}
	}
	if err := refs.Err(); err != nil {
		return nil, fmt.Errorf("list foreign keys: %w", err)
	}
	return out, nil
}
