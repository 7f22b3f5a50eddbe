package handlers

import (
	"context"
	"fmt"
	"regexp"
	"time"

	"portpanel/auth"
	"portpanel/change"
	"portpanel/db"
)

// Enrollment token lifetimes: the default and cap. An hour is
// enough to install an agent; a day bounds what a leaked, unused token
// is worth.
const (
	DefaultEnrollmentTTL = time.Hour
	MaxEnrollmentTTL     = 24 * time.Hour
)

// groupName is what a group may be called: a word a shell, a URL and a
// Prometheus label take as it is.
var groupName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// CheckEnrollment says what is wrong with a new token's group and TTL,
// as the invalid error of the field at fault.
func CheckEnrollment(group string, ttl time.Duration) error {
	switch {
	case !groupName.MatchString(group):
		return &change.InvalidError{Field: "group", Message: "Name the group with 1 to 64 letters, digits, dots, dashes or underscores, starting with a letter or digit."}
	case ttl <= 0 || ttl > MaxEnrollmentTTL:
		return &change.InvalidError{Field: "ttl", Message: fmt.Sprintf("The token's lifetime must be above 0 and at most %s, not %s.", "24h", ttl)}
	}
	return nil
}

// CreateEnrollment makes a one-time enrollment token for group, valid for
// ttl from now, with its audit event by actor giving reason (may be empty). It returns the token as
// stored and the secret, which is stored only as a hash: the caller shows
// it once.
func CreateEnrollment(ctx context.Context, d *db.DB, actor, group string, ttl time.Duration, reason string, now time.Time) (db.EnrollmentToken, string, error) {
	if err := CheckEnrollment(group, ttl); err != nil {
		return db.EnrollmentToken{}, "", err
	}
	secret, err := auth.NewSecret()
	if err != nil {
		return db.EnrollmentToken{}, "", err
	}
	t, err := d.CreateEnrollmentToken(ctx, db.EnrollmentToken{Group: group, CreatedBy: actor, CreatedAt: now, ExpiresAt: now.Add(ttl)},
		auth.HashToken(secret), func(t db.EnrollmentToken) db.AuditEvent {
			return db.AuditEvent{User: actor, Action: "enrollment.created", Detail: fmt.Sprintf(
				"enrollment token #%d for group %q created, expires %s%s", t.ID, t.Group, t.ExpiresAt.UTC().Format(time.RFC3339), because(reason))}
		})
	if err != nil {
		return db.EnrollmentToken{}, "", fmt.Errorf("store enrollment token: %w", err)
	}
	return t, secret, nil
}

// RevokeEnrollment makes token id unusable, with its audit event by actor
// giving reason (may be empty).
// db.ErrConflict: it was used or revoked already.
func RevokeEnrollment(ctx context.Context, d *db.DB, actor string, id int64, reason string, now time.Time) (db.EnrollmentToken, error) {
	return d.RevokeEnrollmentToken(ctx, id, now, func(t db.EnrollmentToken) db.AuditEvent {
		return db.AuditEvent{User: actor, Action: "enrollment.revoked", Detail: fmt.Sprintf(
			"enrollment token #%d for group %q revoked unused%s", t.ID, t.Group, because(reason))}
	})
}
