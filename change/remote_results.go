package change

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"portpanel/agentapi"
	"portpanel/db"
)

// RecordRemoteResults makes the remote changes of host follow what its
// agent reported of their generations: applied (with its revert deadline
// when unconfirmed), confirmed, reverted by the agent on its own, or
// failed with the agent's reason. Each move is audited, naming the host,
// and wakes the requests waiting for it. A result already recorded (a
// report sent twice, or recorded by another replica) changes nothing.
// fleet calls it with every accepted report; the host is the one the
// report's signature names.
func (s *Service) RecordRemoteResults(ctx context.Context, host string, results []agentapi.Result) error {
	rs := slices.Clone(results)
	slices.SortStableFunc(rs, func(a, b agentapi.Result) int { return int(a.Generation - b.Generation) })
	var errs []error
	for _, r := range rs {
		c, err := s.DB.RemoteChangeSent(ctx, host, r.Generation)
		if errors.Is(err, db.ErrNotFound) {
			continue // a generation that carried no change of this panel's
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("result of generation %d on %s: %w", r.Generation, host, err))
			continue
		}
		if err := s.followResult(ctx, c, r); err != nil && !errors.Is(err, db.ErrConflict) {
			errs = append(errs, fmt.Errorf("result of generation %d on %s: %w", r.Generation, host, err))
		}
		s.remoteState.wake(c.ID)
	}
	return errors.Join(errs...)
}

// followResult moves c as result r says.
func (s *Service) followResult(ctx context.Context, c db.Change, r agentapi.Result) error {
	from, now := c.Status, s.Now().UTC()
	c.UpdatedAt, c.AgentResult = now, r.State
	// The result may beat sendRemote's record of the generation.
	c.Generation = r.Generation
	var followers []db.Transition
	var event db.AuditEvent
	switch {
	case (r.State == agentapi.ResultApplied || r.State == agentapi.ResultUnconfirmed) && from == db.StatusApplying:
		c.Status = db.StatusApplied
		if r.State == agentapi.ResultUnconfirmed && !r.Deadline.IsZero() {
			by := r.Deadline.UTC()
			c.ConfirmBy = &by
		}
		if c.RollbackOf != nil {
			orig, err := s.DB.Change(ctx, *c.RollbackOf)
			if err != nil {
				return fmt.Errorf("load change %d: %w", *c.RollbackOf, err)
			}
			if orig.Status == db.StatusApplied || orig.Status == db.StatusConfirmed {
				followers = append(followers, revertedBy(orig, now))
			}
		}
		event = db.AuditEvent{User: c.User, Action: appliedAction(c), Detail: detail(c) + diffDetail(c.Diff)}
	case r.State == agentapi.ResultConfirmed && (from == db.StatusApplied || from == db.StatusApplying):
		who, err := s.DB.ConfirmRequester(ctx, c.ID)
		if err != nil {
			return err
		}
		c.Status, c.ConfirmedBy, c.ConfirmedAt = db.StatusConfirmed, who, &now
		event = db.AuditEvent{User: who, Action: "change.confirmed", Detail: fmt.Sprintf(
			"Host %s confirmed change #%d (%s), asked by %s", c.Host, c.ID, targetWords(c), who)}
	case r.State == agentapi.ResultReverted && (from == db.StatusApplied || from == db.StatusApplying):
		c.Status, c.Error = db.StatusReverted, r.Error
		event = db.AuditEvent{User: SystemUser, Action: "change.reverted", Detail: fmt.Sprintf(
			"Host %s reverted change #%d (%s) on its own: not confirmed in time. %s", c.Host, c.ID, targetWords(c), r.Error)}
	case r.State == agentapi.ResultFailed && from == db.StatusApplying:
		c.Status, c.Error = db.StatusFailed, fmt.Sprintf("host %s: %s", c.Host, r.Error)
		event = db.AuditEvent{User: c.User, Action: "change.failed", Detail: detail(c)}
	default:
		return nil // said before, or too late to matter: the row has moved on
	}
	event.At, event.ChangeID = now, &c.ID
	_, err := s.DB.Transition(ctx, append([]db.Transition{{From: from, Change: c}}, followers...), []db.AuditEvent{event}, nil)
	if err != nil {
		return fmt.Errorf("record change %d as %s: %w", c.ID, c.Status, err)
	}
	return nil
}

// confirmRemote asks c's host to keep commit-confirmed change c: its
// agent holds the revert timer, so the confirmation is sent to it and
// the row becomes confirmed when it reports so. The request waits for
// that, RemoteWait at most.
func (s *Service) confirmRemote(ctx context.Context, c db.Change, actor Actor) (db.Change, error) {
	if c.Status != db.StatusApplied || c.ConfirmBy == nil {
		return db.Change{}, &ConflictError{fmt.Sprintf("Change #%d is %s and does not await confirmation.", c.ID, c.Status)}
	}
	now := s.Now().UTC()
	if now.After(*c.ConfirmBy) {
		return db.Change{}, &ConflictError{fmt.Sprintf("Change #%d was not confirmed by its deadline: host %s reverts it.", c.ID, c.Host)}
	}
	f, err := s.remote()
	if err != nil {
		return db.Change{}, err
	}
	if _, err := s.DB.AppendAudit(ctx, db.AuditEvent{At: now, User: actor.Name, Action: "change.confirm_requested", ChangeID: &c.ID,
		Detail: fmt.Sprintf("Asked host %s to confirm change #%d (%s), %s before its automatic revert",
			c.Host, c.ID, targetWords(c), c.ConfirmBy.Sub(now).Round(time.Second))}); err != nil {
		return db.Change{}, fmt.Errorf("record confirmation of change %d: %w", c.ID, err)
	}
	if err := f.Confirm(ctx, c.Host, c.Generation); err != nil {
		return db.Change{}, fmt.Errorf("send confirmation of change %d to host %s: %w", c.ID, c.Host, err)
	}
	return s.awaitRemote(ctx, c.ID, confirmedOrGone)
}
