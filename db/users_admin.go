package db

import (
	"context"
	"fmt"
)

// SetRole gives user id role and returns the user as updated with the
// role it had before. Demoting the last enabled admin fails with
// ErrLastAdmin.
func (d *DB) SetRole(ctx context.Context, id int64, role string) (User, string, error) {
	if !ValidRole(role) {
		return User{}, "", fmt.Errorf("set role of user %d: role %q must be viewer, operator, approver or admin", id, role)
	}
	before, after, err := d.updateUser(ctx, id, "set role of", func(u *User) { u.Role = role })
	return after, before.Role, err
}

// SetDisabled disables or re-enables user id and returns the user as
// updated. Disabling ends the user's sessions (a new session epoch), so
// enabling again revives none of them. Disabling the last enabled admin
// fails with ErrLastAdmin.
func (d *DB) SetDisabled(ctx context.Context, id int64, disabled bool) (User, error) {
	what := "enable"
	if disabled {
		what = "disable"
	}
	_, after, err := d.updateUser(ctx, id, what, func(u *User) {
		if disabled && !u.Disabled {
			u.SessionEpoch++
		}
		u.Disabled = disabled
	})
	return after, err
}

// SetPassword stores a new password hash for user id, records when, and
// ends the user's sessions; mustChange makes the user choose another one
// at the next sign-in (an admin chose this one). It returns the user as
// updated: a caller keeping its own session must restamp it with the new
// SessionEpoch.
func (d *DB) SetPassword(ctx context.Context, id int64, hash string, mustChange bool) (User, error) {
	if hash == "" {
		return User{}, fmt.Errorf("set password of user %d: empty hash", id)
	}
	_, after, err := d.updateUser(ctx, id, "set password of", func(u *User) {
		u.PasswordHash, u.MustChangePassword = hash, mustChange
		u.PasswordChangedAt = now()
		u.SessionEpoch++
	})
	return after, err
}

// updateUser applies edit to user id inside one write transaction and
// returns the user before and after. The last-admin rule is checked in the
// same transaction: BEGIN takes the write lock (_txlock=immediate), so two
// admins demoting each other at once are serialised and the second sees
// the first's result.
func (d *DB) updateUser(ctx context.Context, id int64, what string, edit func(*User)) (User, User, error) {
	tx, err := d.sql.BeginTx(ctx, nil)
	if err != nil {
		return User{}, User{}, fmt.Errorf("%s user %d: begin: %w", what, id, err)
	}
	defer tx.Rollback()
	before, err := userByID(ctx, tx, id)
	if err != nil {
		return User{}, User{}, fmt.Errorf("%s user: %w", what, err)
	}
	after := before
	edit(&after)
	if isEnabledAdmin(before) && !isEnabledAdmin(after) {
		var others int
		err := tx.QueryRowContext(ctx,
			`SELECT COUNT(*) FROM users WHERE role = ? AND disabled = 0 AND id <> ?`, RoleAdmin, id).Scan(&others)
		if err != nil {
			return User{}, User{}, fmt.Errorf("%s user %q: count admins: %w", what, before.Name, err)
		}
		if others == 0 {
			return User{}, User{}, fmt.Errorf("%s user %q: %w", what, before.Name, ErrLastAdmin)
		}
	}
	_, err = tx.ExecContext(ctx, `UPDATE users SET role = ?, password_hash = ?, disabled = ?,
		must_change_password = ?, password_changed_at = ?, session_epoch = ? WHERE id = ?`,
		after.Role, after.PasswordHash, after.Disabled, after.MustChangePassword,
		toMS(after.PasswordChangedAt), after.SessionEpoch, id)
	if err != nil {
		return User{}, User{}, fmt.Errorf("%s user %q: %w", what, before.Name, err)
	}
	if err := tx.Commit(); err != nil {
		return User{}, User{}, fmt.Errorf("%s user %q: commit: %w", what, before.Name, err)
	}
	return before, after, nil
}

func isEnabledAdmin(u User) bool { return u.Role == RoleAdmin && !u.Disabled }
