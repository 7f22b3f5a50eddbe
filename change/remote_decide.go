package change

import (
	"context"
	"fmt"

	"portpanel/db"
	"portpanel/sysctl"
)

// approveRemote is ApproveAcknowledging of a remote proposal: the same
// gate (proposal: nobody approves their own, only approvers and admins),
// the same checks against the host as it reports now (its range, its
// reserved ports, its desired state and, asked again, the diff its agent
// would write and its hazards), then the change is sent.
func (s *Service) approveRemote(ctx context.Context, id int64, host string, actor Actor, comment string, ack []string) (db.Change, error) {
	unlock := s.remoteState.lock(host)
	c, err := s.proposal(ctx, id, actor, "approve")
	if err != nil {
		unlock()
		return db.Change{}, err
	}
	added, err := s.recheckRemote(ctx, &c, ack)
	if err != nil {
		unlock()
		return db.Change{}, err
	}
	// A rollback's original moves with the agent's report, not now.
	c = approvedBy(c, actor, comment, s.Now().UTC())
	stored, err := s.DB.Transition(ctx, []db.Transition{{From: db.StatusProposed, Change: c}},
		[]db.AuditEvent{approvalEvent(c, added)}, nil)
	if err != nil {
		unlock()
		return db.Change{}, fmt.Errorf("approve change %d: %w", id, err)
	}
	sent, err := s.sendRemote(ctx, stored[0], db.StatusApproved)
	unlock()
	if err != nil {
		return sent, err
	}
	return s.awaitRemote(ctx, sent.ID, applied)
}

// recheckRemote checks proposal c again against its host now, updating
// its warnings and hazards, and returns the hazards ack acknowledges that
// its author had not. A rollback is checked but never gated by hazards.
func (s *Service) recheckRemote(ctx context.Context, c *db.Change, ack []string) ([]string, error) {
	var except int64
	if c.RollbackOf != nil {
		except = *c.RollbackOf
		if _, err := s.rollbackable(ctx, except); err != nil {
			return nil, err
		}
	}
	if err := s.refuseWhileBusy(ctx, c.Host, except); err != nil {
		return nil, err
	}
	h, err := s.remoteHost(ctx, c.Host)
	if err != nil {
		return nil, err
	}
	st := observedState(h.Observed)
	if base := (sysctl.Range{Low: c.BeforeLow, High: c.BeforeHigh}); st.Range != base {
		return nil, staleRuntime(base, st.Range)
	}
	if base := c.BeforeReservedPorts; base != nil && *base != st.ReservedPorts {
		return nil, staleReserved(*base, st.ReservedPorts)
	}
	if h.Generation != c.BaseGeneration {
		return nil, staleGeneration(c.Host, c.BaseGeneration, h.Generation)
	}
	target := targetOf(*c)
	if c.Warnings, err = sysctl.Validate(target.Range, afterState(st, c.ReservedPorts)); err != nil {
		return nil, err
	}
	if c.RollbackOf != nil {
		return nil, nil
	}
	pv, err := s.askPreview(ctx, c.Host, desiredKeys(target))
	if err != nil {
		return nil, err
	}
	if previewState(pv) != c.BaseFileHash {
		return nil, &ConflictError{fmt.Sprintf(
			"%s on %s changed since change #%d was planned (its agent would now write another diff): start a new change from the current state.", pv.File, c.Host, c.ID)}
	}
	c.Warnings = append(c.Warnings, pv.Warnings...)
	c.Hazards = hazardsOf(pv.Hazards)
	added, err := acknowledge(unacknowledged(*c), ack)
	if err != nil {
		return nil, err
	}
	c.Acknowledged = append(c.Acknowledged, added...)
	return added, nil
}

// rollbackRemote is Rollback of remote change orig: its agent restores
// the value and the file it had before orig, byte for byte (the file as
// it was, if nothing edited it since). The gate is Rollback's: with
// approval required an operator's rollback is a proposal, an approver's
// or admin's an emergency.
func (s *Service) rollbackRemote(ctx context.Context, host string, id int64, reason string, actor Actor) (db.Change, error) {
	unlock := s.remoteState.lock(host)
	c, err := s.planRemoteRollback(ctx, id, reason, actor)
	if err != nil {
		unlock()
		return db.Change{}, err
	}
	if s.RequireApproval {
		if !actor.canApprove() {
			defer unlock()
			return s.propose(ctx, plan{change: c})
		}
		c.Emergency = true
	}
	sent, err := s.sendRemote(ctx, c, "")
	unlock()
	if err != nil {
		return sent, err
	}
	return s.awaitRemote(ctx, sent.ID, applied)
}

// planRemoteRollback plans the change that restores remote change id's
// before value, checked against its host now.
func (s *Service) planRemoteRollback(ctx context.Context, id int64, reason string, actor Actor) (db.Change, error) {
	orig, err := s.rollbackable(ctx, id)
	if err != nil {
		return db.Change{}, err
	}
	if err := s.refuseWhileBusy(ctx, orig.Host, id); err != nil {
		return db.Change{}, err
	}
	h, err := s.remoteHost(ctx, orig.Host)
	if err != nil {
		return db.Change{}, err
	}
	st := observedState(h.Observed)
	target := sysctl.Target{Range: sysctl.Range{Low: orig.BeforeLow, High: orig.BeforeHigh}, Reserved: orig.BeforeReservedPorts}
	warnings, err := sysctl.Validate(target.Range, afterState(st, target.Reserved))
	if err != nil {
		return db.Change{}, err
	}
	now := s.Now().UTC()
	c := db.Change{
		Host: orig.Host, BaseGeneration: h.Generation,
		Low: target.Range.Low, High: target.Range.High, BeforeLow: st.Range.Low, BeforeHigh: st.Range.High,
		Reason: reason, UserID: actor.ID, User: actor.Name, CreatedAt: now, UpdatedAt: now,
		File: orig.File, Warnings: warnings, RollbackOf: &id,
		Notes: []string{fmt.Sprintf("host %s restores %s exactly as it was before change #%d, unless someone edited it since", orig.Host, orig.File, id)},
	}
	if target.Reserved != nil {
		before := st.ReservedPorts
		c.ReservedPorts, c.BeforeReservedPorts = target.Reserved, &before
	}
	return c, nil
}
