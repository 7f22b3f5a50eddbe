package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"

	"github.com/pressly/goose/v3"
)

// rolesMigration (version 3) lets users.role be 'approver'. SQLite cannot
// alter a CHECK constraint, so the table is rebuilt with SQLite's
// documented 12-step procedure
// (https://www.sqlite.org/lang_altertable.html#otheralter).
//
// It is a Go migration, not SQL, because the procedure needs foreign keys
// off while users is dropped: tokens references users ON DELETE CASCADE,
// and DROP TABLE with foreign keys on deletes every row first, taking all
// API tokens with it. PRAGMA foreign_keys is a no-op inside a transaction
// and goose runs SQL migrations in one, hence RunDB (no goose transaction)
// and our own connection and transaction.
var rolesMigration = goose.NewGoMigration(3,
	&goose.GoFunc{RunDB: func(ctx context.Context, db *sql.DB) error {
		return rebuildUsers(ctx, db, "'viewer', 'operator', 'approver', 'admin'", "")
	}},
	&goose.GoFunc{RunDB: func(ctx context.Context, db *sql.DB) error {
		// An approver has operator rights plus approval, so going back
		// makes approvers operators: the older schema cannot hold the role,
		// and this grants nobody more than they had.
		return rebuildUsers(ctx, db, "'viewer', 'operator', 'admin'",
			"UPDATE users SET role = 'operator' WHERE role = 'approver'")
	}},
)

// rebuildUsers recreates users with a CHECK allowing roles (an SQL list),
// running prepare first inside the same transaction.
//
// goose records the version after this returns, outside our transaction;
// if the process dies in between, the rebuild simply runs again, which is
// harmless.
func rebuildUsers(ctx context.Context, sqlDB *sql.DB, roles, prepare string) (err error) {
	// One connection: the pragma is per connection, and it must be the
	// one the transaction runs on.
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return fmt.Errorf("rebuild users: get connection: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `PRAGMA foreign_keys = OFF`); err != nil {
		return fmt.Errorf("rebuild users: disable foreign keys: %w", err)
	}
	// The connection goes back to the pool when closed; every pooled
	// connection must enforce foreign keys, so turn them on again whatever
	// happened, with a context that cannot already be cancelled.
	defer func() {
		_, ferr := conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA foreign_keys = ON`)
		if ferr != nil {
			// ErrBadConn from Raw makes database/sql discard the
			// connection: better none than one ignoring foreign keys.
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
			err = errors.Join(err, fmt.Errorf("rebuild users: re-enable foreign keys: %w", ferr))
		}
	}()

	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("rebuild users: begin: %w", err)
	}
	defer tx.Rollback()
	steps := []string{
		`CREATE TABLE users_new (
			id            INTEGER PRIMARY KEY,
			name          TEXT    NOT NULL UNIQUE,
			role          TEXT    NOT NULL CHECK (role IN (` + roles + `)),
			password_hash TEXT    NOT NULL,
			created_at    INTEGER NOT NULL
		)`,
		`INSERT INTO users_new (id, name, role, password_hash, created_at)
			SELECT id, name, role, password_hash, created_at FROM users`,
		`DROP TABLE users`,
		// Renaming the new table (not the old one away first) leaves the
		// foreign keys in tokens naming users, as the procedure requires.
		`ALTER TABLE users_new RENAME TO users`,
	}
	if prepare != "" {
		steps = append([]string{prepare}, steps...)
	}
	for _, s := range steps {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("rebuild users: %w", err)
		}
	}
	// users has no indexes, triggers or views of its own to recreate: its
	// UNIQUE index comes with CREATE TABLE, and tokens' index is on tokens.
	if err := foreignKeysHold(ctx, tx); err != nil {
		return fmt.Errorf("rebuild users: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("rebuild users: commit: %w", err)
	}
	return nil
}

// foreignKeysHold is step 10 of the procedure: with enforcement off
// nothing checked the rebuild, so check every reference now.
func foreignKeysHold(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, `PRAGMA foreign_key_check`)
	if err != nil {
		return fmt.Errorf("check foreign keys: %w", err)
	}
	defer rows.Close()
	if rows.Next() {
		var table string
		var rowid sql.NullInt64
		var parent string
		var fkid int64
		if err := rows.Scan(&table, &rowid, &parent, &fkid); err != nil {
			return fmt.Errorf("check foreign keys: %w", err)
		}
		return fmt.Errorf("check foreign keys: row %d of %s references a missing row of %s",
			rowid.Int64, table, parent)
	}
	return rows.Err()
}
