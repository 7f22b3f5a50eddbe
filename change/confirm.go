package change

import (
	"context"
	"fmt"

	"portpanel/db"
	"portpanel/sysctl"
)

// Confirm keeps change id, which would otherwise revert at its deadline.
func (s *Service) Confirm(ctx context.Context, id int64, actor Actor) (db.Change, error) {
	c, err := s.DB.Change(ctx, id)
	if err != nil {
		return db.Change{}, fmt.Errorf("load change %d: %w", id, err)
	}
	if c.Host != "" {
		return s.confirmRemote(ctx, c, actor)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, err = s.DB.Change(ctx, id); err != nil { // again: it may have moved while we waited
		return db.Change{}, fmt.Errorf("load change %d: %w", id, err)
	}
	if c.Status != db.StatusApplied || c.ConfirmBy == nil {
		return db.Change{}, &ConflictError{fmt.Sprintf("Change #%d is %s and does not await confirmation.", id, c.Status)}
	}
	now := s.Now().UTC()
	if now.After(*c.ConfirmBy) {
		return db.Change{}, &ConflictError{fmt.Sprintf("Change #%d was not confirmed by its deadline and is being reverted.", id)}
	}
	c.Status, c.UpdatedAt = db.StatusConfirmed, now
	c.ConfirmedBy, c.ConfirmedAt = actor.Name, &now
	stored, err := s.DB.Transition(ctx, []db.Transition{{From: db.StatusApplied, Change: c}},
		[]db.AuditEvent{{At: now, User: actor.Name, Action: "change.confirmed", Detail: fmt.Sprintf(
			"Confirmed change #%d (%s %d %d), %s before its automatic revert", id, sysctl.Key, c.Low, c.High, c.ConfirmBy.Sub(now).Round(1e9))}}, nil)
	if err != nil {
		return db.Change{}, fmt.Errorf("confirm change %d: %w", id, err)
	}
	return stored[0], nil
}
