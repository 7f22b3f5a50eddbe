package change

import (
	"context"
	"errors"
	"fmt"
	"time"

	"portpanel/db"
)

// RevertDue reverts every change whose confirmation deadline has passed,
// restoring its before value in kernel and file, and returns how many it
// reverted. Deadlines are in the database, so one that passed while
// portpanel was down is acted on at the next start.
func (s *Service) RevertDue(ctx context.Context) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	list, err := s.DB.AwaitingConfirmation(ctx)
	if err != nil {
		return 0, fmt.Errorf("load changes awaiting confirmation: %w", err)
	}
	now := s.Now().UTC()
	n := 0
	var errs []error
	for _, orig := range list {
		if orig.ConfirmBy.After(now) || orig.Host != "" {
			continue // a remote host's agent holds its own deadline
		}
		if err := s.revert(ctx, orig); err != nil {
			errs = append(errs, err)
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}

// revert undoes unconfirmed change orig. If the revert cannot be done, the
// deadline is dropped (so it is not retried every second) and the audit log
// says that someone must act.
func (s *Service) revert(ctx context.Context, orig db.Change) error {
	reason := fmt.Sprintf("Not confirmed by %s: automatic revert of change #%d", orig.ConfirmBy.UTC().Format(time.DateTime+" MST"), orig.ID)
	p, err := s.planRollback(orig, reason, Actor{Name: SystemUser})
	if err == nil {
		_, err = s.start(ctx, p, "", revertedBy(orig, s.Now().UTC()))
	}
	if err == nil {
		return nil
	}
	now := s.Now().UTC()
	kept := orig
	kept.ConfirmBy, kept.UpdatedAt = nil, now
	if _, terr := s.DB.Transition(ctx, []db.Transition{{From: db.StatusApplied, Change: kept}},
		[]db.AuditEvent{{At: now, User: SystemUser, Action: "change.revert_failed", ChangeID: &orig.ID, Detail: fmt.Sprintf(
			"The automatic revert of change #%d failed, so %d %d stays in force: roll it back by hand. %v", orig.ID, orig.Low, orig.High, err)}}, nil); terr != nil {
		return errors.Join(err, fmt.Errorf("drop deadline of change %d: %w", orig.ID, terr))
	}
	return fmt.Errorf("revert change %d: %w", orig.ID, err)
}
