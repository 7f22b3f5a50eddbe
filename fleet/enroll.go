package fleet

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"portpanel/agentapi"
	"portpanel/db"
)

// tokenPrefix marks an enrollment token, so one pasted in the wrong
// place (an API token field, a log) is recognisable.
const tokenPrefix = "ppe_"

// HashToken is what the database keeps of an enrollment token.
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// CreateEnrollment makes a one-time enrollment token for group, valid for
// ttl (DefaultEnrollTTL if 0; at most MaxEnrollTTL), created by user
// by, and audits it. The token is returned once and stored only hashed.
func (s *Service) CreateEnrollment(ctx context.Context, by, group string, ttl time.Duration) (string, db.EnrollmentToken, error) {
	now := s.now()
	if ttl == 0 {
		ttl = DefaultEnrollTTL
	}
	if ttl < time.Minute || ttl > MaxEnrollTTL {
		return "", db.EnrollmentToken{}, fmt.Errorf("%w: ttl %s: give 1m to %s", ErrInvalid, ttl, MaxEnrollTTL)
	}
	if err := CheckGroup(group); err != nil {
		return "", db.EnrollmentToken{}, err
	}
	secret := make([]byte, 32)
	if _, err := io.ReadFull(s.Rand, secret); err != nil {
		return "", db.EnrollmentToken{}, fmt.Errorf("make enrollment token: %w", err)
	}
	token := tokenPrefix + base64.RawURLEncoding.EncodeToString(secret)
	t, err := s.DB.CreateEnrollmentToken(ctx, db.EnrollmentToken{Group: group, CreatedBy: by, CreatedAt: now,
		ExpiresAt: now.Add(ttl)}, HashToken(token), func(t db.EnrollmentToken) db.AuditEvent {
		return db.AuditEvent{At: now, User: by, Action: "enrollment.created", Detail: fmt.Sprintf(
			"enrollment token #%d for group %q, valid until %s", t.ID, t.Group, t.ExpiresAt.Format(time.RFC3339))}
	})
	if err != nil {
		return "", db.EnrollmentToken{}, err
	}
	return token, t, nil
}

// RevokeEnrollment makes token id unusable and audits it (user by).
func (s *Service) RevokeEnrollment(ctx context.Context, by string, id int64) (db.EnrollmentToken, error) {
	now := s.now()
	return s.DB.RevokeEnrollmentToken(ctx, id, now, func(t db.EnrollmentToken) db.AuditEvent {
		return db.AuditEvent{At: now, User: by, Action: "enrollment.revoked",
			Detail: fmt.Sprintf("enrollment token #%d for group %q revoked", t.ID, t.Group)}
	})
}

// Enroll spends req's token and enrolls the host it names with its public
// key. from says where the request came from, for the audit log. A token
// that is unknown, used, expired or revoked answers ErrUnauthorized and
// leaves an "enrollment.refused" event naming the reason (never the
// token); a name held by a host that is not revoked answers
// db.ErrConflict and leaves the token unspent.
func (s *Service) Enroll(ctx context.Context, req agentapi.EnrollRequest, from string) (db.Host, error) {
	now := s.now()
	if err := CheckName(req.Name); err != nil {
		return db.Host{}, err
	}
	if _, err := agentapi.ParsePublicKey(req.PublicKey); err != nil {
		return db.Host{}, fmt.Errorf("%w: public_key: %w", ErrInvalid, err)
	}
	if req.Token == "" {
		return db.Host{}, s.refuseEnrollment(ctx, now, req.Name, from, &db.EnrollRefusedError{Reason: db.RefusedUnknown})
	}
	h, err := s.DB.Enroll(ctx, db.Enrollment{TokenHash: HashToken(req.Token), Name: req.Name,
		PublicKey: req.PublicKey, Version: clip(req.Version, 64), At: now}, func(h db.Host) db.AuditEvent {
		return db.AuditEvent{At: now, User: "", Action: "host.enrolled",
			Detail: fmt.Sprintf("host %q enrolled in group %q from %s", h.Name, h.Group, from)}
	})
	var refused *db.EnrollRefusedError
	if errors.As(err, &refused) {
		return db.Host{}, s.refuseEnrollment(ctx, now, req.Name, from, refused)
	}
	if err != nil {
		return db.Host{}, err
	}
	s.keys.drop(h.Name)
	s.Hub.Wake(hostKey(h.Name))
	return h, nil
}

func (s *Service) refuseEnrollment(ctx context.Context, now time.Time, name, from string, r *db.EnrollRefusedError) error {
	refused := fmt.Errorf("%w: %s", ErrUnauthorized, r.Reason)
	key, which := "enroll:unknown", ""
	if r.TokenID != 0 {
		key, which = fmt.Sprintf("enroll:%d", r.TokenID), fmt.Sprintf(" #%d", r.TokenID)
	}
	ok, folded := s.refusals.admit(key, now)
	if !ok {
		return refused
	}
	_, aerr := s.DB.AppendAudit(ctx, db.AuditEvent{At: now, Action: "enrollment.refused",
		Detail: fmt.Sprintf("enrollment of host %q from %s refused: %s%s", clip(name, 64), from, r.Reason, which) + alsoRefused(folded)})
	if aerr != nil {
		return fmt.Errorf("enrollment refused (%s), and auditing it failed: %w", r.Reason, aerr)
	}
	return refused
}

// CheckName refuses a host name the signature header could not carry or
// a page would show badly: 1 to 253 bytes of letters, digits, '.', '-'
// and '_'.
func CheckName(name string) error {
	if err := checkWord(name, agentapi.MaxHostLen); err != nil {
		return fmt.Errorf("%w: host name %q: %w", ErrInvalid, clip(name, 64), err)
	}
	return nil
}

// CheckGroup refuses a group name as CheckName does (at most 64 bytes).
func CheckGroup(group string) error {
	if err := checkWord(group, 64); err != nil {
		return fmt.Errorf("%w: group %q: %w", ErrInvalid, clip(group, 64), err)
	}
	return nil
}

func checkWord(w string, max int) error {
	if w == "" || len(w) > max {
		return fmt.Errorf("give 1 to %d characters", max)
	}
	if strings.IndexFunc(w, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_')
	}) >= 0 {
		return errors.New("use letters, digits, '.', '-' and '_' only")
	}
	return nil
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
