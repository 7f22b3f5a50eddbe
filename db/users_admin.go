package db

import (
	"context"
	"fmt"
)

// adminRole is the role whose last enabled holder db keeps: the schema's
// name for auth.RoleAdmin. db imports nothing above it, so it names this
// one role itself (as the users table's CHECK names them all); auth's
// TestRolesAgreeWithDatabase fails should the two ever differ.
const adminRole = "admin"

// UserAudit returns the audit event of an account change, given the user
// before and after it. It runs inside the change's transaction, so the
// change and its record land together or not at all; nil records nothing.
type UserAudit func(before, after User) AuditEvent

// SetRole gives user id role and, in the same transaction, records the
// event audit returns; the role is one of auth's, which the caller has
// checked (the table's CHECK refuses others). It returns the user as
// updated with the role it had before. Giving a user the role they have
// changes and records nothing. Demoting the last enabled admin fails with
// ErrLastAdmin.
func (d *DB) SetRole(ctx context.Context, id int64, role string, audit UserAudit) (User, string, error) {
	before, after, err := d.updateUser(ctx, id, "set role of", func(u *User) bool {
		changed := u.Role != role
		u.Role = role
		return changed
	}, audit)
	return after, before.Role, err
}

// SetDisabled disables or re-enables user id, records the event audit
// returns in the same transaction, and returns the user as updated.
// Disabling ends the user's sessions (a new session epoch), so enabling
// again revives none of them. Disabling the last enabled admin fails with
// ErrLastAdmin.
func (d *DB) SetDisabled(ctx context.Context, id int64, disabled bool, audit UserAudit) (User, error) {
	what := "enable"
	if disabled {
		what = "disable"
	}
	_, after, err := d.updateUser(ctx, id, what, func(u *User) bool {
		if disabled && !u.Disabled {
			u.SessionEpoch++
		}
		u.Disabled = disabled
		return true
	}, audit)
	return after, err
}

// SetPassword stores a new password hash for user id, records when, and
// ends the user's sessions; mustChange makes the user choose another one
// at the next sign-in (an admin chose this one). The event audit returns
// is recorded in the same transaction. It returns the user as updated: a
// caller keeping its own session must restamp it with the new
// SessionEpoch.
func (d *DB) SetPassword(ctx context.Context, id int64, hash string, mustChange bool, audit UserAudit) (User, error) {
	if hash == "" {
		return User{}, fmt.Errorf("set password of user %d: empty hash", id)
	}
	_, after, err := d.updateUser(ctx, id, "set password of", func(u *User) bool {
		u.PasswordHash, u.MustChangePassword = hash, mustChange
		u.PasswordChangedAt = now()
		u.SessionEpoch++
		return true
	}, audit)
	return after, err
}

// updateUser applies edit to user id inside one write transaction, with
// the audit event of the change, and returns the user before and after.
// When edit reports no change, nothing is written. The last-admin rule is
// checked in the same transaction: BEGIN takes the write lock
// (_txlock=immediate), so two admins demoting each other at once are
// serialised and the second sees the first's result.
func (d *DB) updateUser(ctx context.Context, id int64, what string, edit func(*User) bool, audit UserAudit) (User, User, error) {
	tx, err := d.sql.BeginTx(ctx, nil)
	if err != nil {
		return User{}, User{}, fmt.Errorf("%s user %d: begin: %w", what, id, err)
	}
	defer tx.Rollback()
	// Before reading: the last-admin rule below counts the other admins,
	// and two demotions side by side must not each count the other.
	if err := d.serialize(ctx, tx, usersLock); err != nil {
		return User{}, User{}, fmt.Errorf("%s user %d: %w", what, id, err)
	}
	before, err := userByID(ctx, tx, id)
	if err != nil {
		return User{}, User{}, fmt.Errorf("%s user: %w", what, err)
	}
	after := before
	if !edit(&after) {
		return before, before, nil
	}
	if isEnabledAdmin(before) && !isEnabledAdmin(after) {
		var others int
		err := tx.QueryRowContext(ctx,
			`SELECT COUNT(*) FROM users WHERE role = $1 AND disabled = 0 AND id <> $2`, adminRole, id).Scan(&others)
		if err != nil {
			return User{}, User{}, fmt.Errorf("%s user %q: count admins: %w", what, before.Name, err)
		}
		if others == 0 {
			return User{}, User{}, fmt.Errorf("%s user %q: %w", what, before.Name, ErrLastAdmin)
		}
	}
	_, err = tx.ExecContext(ctx, `UPDATE users SET role = $1, password_hash = $2, disabled = $3,
		must_change_password = $4, password_changed_at = $5, session_epoch = $6 WHERE id = $7`,
		after.Role, after.PasswordHash, after.Disabled, after.MustChangePassword,
		toMS(after.PasswordChangedAt), after.SessionEpoch, id)
	if err != nil {
		return User{}, User{}, fmt.Errorf("%s user %q: %w", what, before.Name, err)
	}
	if audit != nil {
		if _, err := d.appendEvent(ctx, tx, Recorded{Event: audit(before, after)}); err != nil {
			return User{}, User{}, fmt.Errorf("%s user %q: %w", what, before.Name, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return User{}, User{}, fmt.Errorf("%s user %q: commit: %w", what, before.Name, err)
	}
	return before, after, nil
}

func isEnabledAdmin(u User) bool { return u.Role == adminRole && !u.Disabled }
