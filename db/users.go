package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// queryer is what *sql.DB and *sql.Tx share, so a query helper can run
// inside or outside a transaction.
type queryer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// CreateUser adds an enabled user who need not change the password, with
// the audit event audit returns, as InsertUser does.
func (d *DB) CreateUser(ctx context.Context, name, role, passwordHash string, audit func(User) AuditEvent) (User, error) {
	return d.InsertUser(ctx, User{Name: name, Role: role, PasswordHash: passwordHash}, audit)
}

// InsertUser adds u (name, role, password hash, disabled, must change
// password) and, in the same transaction, the audit event that audit
// returns for the stored user (with its ID), unless audit is nil: an
// account never exists unrecorded. The role is one of auth's, which the
// caller has checked; the table's CHECK refuses others. It returns the
// user as stored, or ErrConflict if the name is taken.
func (d *DB) InsertUser(ctx context.Context, u User, audit func(User) AuditEvent) (User, error) {
	tx, err := d.sql.BeginTx(ctx, nil)
	if err != nil {
		return User{}, fmt.Errorf("create user %q: begin: %w", u.Name, err)
	}
	defer tx.Rollback()
	u.CreatedAt = now()
	u.PasswordChangedAt, u.SessionEpoch = u.CreatedAt, 0
	err = tx.QueryRowContext(ctx,
		`INSERT INTO users (name, role, password_hash, created_at, disabled, must_change_password, password_changed_at)
		 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		u.Name, u.Role, u.PasswordHash, toMS(u.CreatedAt), u.Disabled, u.MustChangePassword, toMS(u.PasswordChangedAt)).Scan(&u.ID)
	if isUniqueViolation(err) {
		return User{}, fmt.Errorf("create user %q: %w", u.Name, ErrConflict)
	}
	if err != nil {
		return User{}, fmt.Errorf("create user %q: %w", u.Name, err)
	}
	if audit != nil {
		if _, err := d.appendEvent(ctx, tx, Recorded{Event: audit(u)}); err != nil {
			return User{}, fmt.Errorf("create user %q: %w", u.Name, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return User{}, fmt.Errorf("create user %q: commit: %w", u.Name, err)
	}
	return u, nil
}

const userColumns = `id, name, role, password_hash, created_at, disabled, must_change_password, password_changed_at, session_epoch`

func scanUser(row interface{ Scan(...any) error }) (User, error) {
	var u User
	var created, changed int64
	if err := row.Scan(&u.ID, &u.Name, &u.Role, &u.PasswordHash, &created,
		&u.Disabled, &u.MustChangePassword, &changed, &u.SessionEpoch); err != nil {
		return User{}, err
	}
	u.CreatedAt, u.PasswordChangedAt = fromMS(created), fromMS(changed)
	return u, nil
}

// UserByName returns the user called name, or ErrNotFound.
func (d *DB) UserByName(ctx context.Context, name string) (User, error) {
	u, err := scanUser(d.sql.QueryRowContext(ctx,
		`SELECT `+userColumns+` FROM users WHERE name = $1`, name))
	return u, notFound(err, "user %q", name)
}

// UserByID returns the user with the given id, or ErrNotFound.
//
// Every signed-in request asks, so the answer is cached until the next
// commit (see Memo).
func (d *DB) UserByID(ctx context.Context, id int64) (User, error) {
	return d.memo.users.Get(ctx, d, id, func(ctx context.Context) (User, error) {
		return userByID(ctx, d.sql, id)
	})
}

func userByID(ctx context.Context, q queryer, id int64) (User, error) {
	u, err := scanUser(q.QueryRowContext(ctx,
		`SELECT `+userColumns+` FROM users WHERE id = $1`, id))
	return u, notFound(err, "user %d", id)
}

// CountUsers returns how many users exist (0 means the first user must
// still be created).
func (d *DB) CountUsers(ctx context.Context) (int, error) {
	var n int
	if err := d.sql.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count users: %w", err)
	}
	return n, nil
}

// Users returns all users by name.
func (d *DB) Users(ctx context.Context) ([]User, error) {
	rows, err := d.sql.QueryContext(ctx, `SELECT `+userColumns+` FROM users ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return collect(rows, scanUser, "list users")
}

// notFound maps sql.ErrNoRows to ErrNotFound and wraps any error with what
// was being looked up.
func notFound(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	what := fmt.Sprintf(format, args...)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	return fmt.Errorf("read %s: %w", what, err)
}

// collect scans every row with scan and closes rows.
func collect[T any](rows *sql.Rows, scan func(interface{ Scan(...any) error }) (T, error), what string) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}
