package db

import (
	"embed"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/pressly/goose/v3"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Dialect names a database engine portpanel stores its data in.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// One set of migrations serves both dialects, one version sequence, so a
// version means the same schema everywhere. In db/migrations:
//
//	NNNNN_name.sql           runs on every dialect (portable SQL);
//	NNNNN_name.sqlite.sql    runs on SQLite only;
//	NNNNN_name.postgres.sql  runs on PostgreSQL only.
//
// A version written per dialect has one file for each (a test holds both
// lists of versions equal). Per-dialect files exist because the parts that
// cannot be written once (id columns, the audit log's triggers, SQLite's
// table rebuilds) differ in syntax, not in meaning.
func migrationsFor(d Dialect) (fs.FS, error) {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, fmt.Errorf("read embedded migrations: %w", err)
	}
	return dialectFS{FS: sub.(fs.ReadDirFS), dialect: d}, nil
}

// dialectFS hides the migration files of the other dialects.
type dialectFS struct {
	fs.FS
	dialect Dialect
}

func (f dialectFS) keeps(name string) bool {
	base := strings.TrimSuffix(name, ".sql")
	dot := strings.LastIndexByte(base, '.')
	return dot < 0 || Dialect(base[dot+1:]) == f.dialect
}

func (f dialectFS) Open(name string) (fs.File, error) {
	if name != "." && !f.keeps(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return f.FS.Open(name)
}

func (f dialectFS) ReadDir(name string) ([]fs.DirEntry, error) {
	all, err := fs.ReadDir(f.FS, name)
	if err != nil {
		return nil, err
	}
	kept := all[:0]
	for _, e := range all {
		if f.keeps(e.Name()) {
			kept = append(kept, e)
		}
	}
	return kept, nil
}

// MigrationVersions lists the migration versions dialect runs, in order:
// the SQL files it sees and, on SQLite, the Go migration.
func MigrationVersions(d Dialect) ([]int64, error) {
	fsys, err := migrationsFor(d)
	if err != nil {
		return nil, err
	}
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	var out []int64
	for _, e := range entries {
		v, err := goose.NumericComponent(e.Name())
		if err != nil {
			return nil, fmt.Errorf("migration %s: %w", e.Name(), err)
		}
		out = append(out, v)
	}
	if d == SQLite {
		out = append(out, rolesMigration.Version)
	}
	slices.Sort(out)
	return out, nil
}
