package change

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"portpanel/db"
	"portpanel/sysctl"
)

// Approve approves proposal id and applies it. Nobody approves their own
// proposal. The proposal is checked again first: the kernel must still have
// the value it was based on and the file must be unchanged (else 409, and
// it stays proposed), and its value must pass today's rules.
func (s *Service) Approve(ctx context.Context, id int64, actor Actor, comment string) (db.Change, error) {
	return s.ApproveAcknowledging(ctx, id, actor, comment, nil)
}

// ApproveAcknowledging is Approve by an approver who acknowledges the
// hazards ack. The proposal's hazards are checked again against the state
// now: one its author did not acknowledge (it appeared since the
// proposal) must be in ack, else the proposal stays proposed and a
// HazardError names it. Those the author acknowledged are shown to the
// approver with the proposal, and approving it accepts them.
func (s *Service) ApproveAcknowledging(ctx context.Context, id int64, actor Actor, comment string, ack []string) (db.Change, error) {
	if err := checkAcknowledge(ack); err != nil {
		return db.Change{}, err
	}
	comment = strings.TrimSpace(comment)
	if len([]rune(comment)) > MaxReasonLen {
		return db.Change{}, &InvalidError{Field: "reason", Message: fmt.Sprintf("Keep the comment to %d characters.", MaxReasonLen)}
	}
	if host := s.hostOf(ctx, id); host != "" {
		return s.approveRemote(ctx, id, host, actor, comment, ack)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.proposal(ctx, id, actor, "approve")
	if err != nil {
		return db.Change{}, err
	}
	var except int64
	if c.RollbackOf != nil {
		except = *c.RollbackOf
	}
	if err := s.refuseWhileAwaiting(ctx, except); err != nil {
		return db.Change{}, err
	}
	st, err := s.checkStill(c)
	if err != nil {
		return db.Change{}, err
	}
	target := targetOf(c)
	if c.Warnings, err = sysctl.Validate(target.Range, afterState(st, c.ReservedPorts)); err != nil {
		return db.Change{}, err
	}
	// The other files may have changed since the proposal: warn about the
	// boot value as it is now, as plan did then (rollbacks never had it,
	// and a refused plan fails without touching anything).
	if c.RollbackOf == nil && c.Error == "" {
		boot, err := s.bootWarnings(target, c.FileAfter)
		if err != nil {
			return db.Change{}, err
		}
		c.Warnings = append(c.Warnings, boot...)
	}
	added, err := s.recheckHazards(&c, st, ack)
	if err != nil {
		return db.Change{}, err
	}
	var followers []db.Transition
	if c.RollbackOf != nil {
		orig, err := s.rollbackable(ctx, *c.RollbackOf)
		if err != nil {
			return db.Change{}, err
		}
		followers = append(followers, revertedBy(orig, s.Now().UTC()))
	}

	c = approvedBy(c, actor, comment, s.Now().UTC())
	stored, err := s.DB.Transition(ctx, []db.Transition{{From: db.StatusProposed, Change: c}},
		[]db.AuditEvent{approvalEvent(c, added)}, nil)
	if err != nil {
		return db.Change{}, fmt.Errorf("approve change %d: %w", id, err)
	}
	return s.start(ctx, storedPlan(stored[0]), db.StatusApproved, followers...)
}

// approvedBy is proposal c approved by actor at now, with comment.
func approvedBy(c db.Change, actor Actor, comment string, now time.Time) db.Change {
	c.Status, c.UpdatedAt = db.StatusApproved, now
	c.DecidedBy, c.DecidedAt, c.DecisionReason = actor.Name, &now, comment
	return c
}

// approvalEvent is the audit event of c's approval (approvedBy), with the
// hazards its approver acknowledged on top of its author's.
func approvalEvent(c db.Change, added []string) db.AuditEvent {
	d := fmt.Sprintf("Approved change #%d%s by %s", c.ID, onHost(c), c.User)
	if c.DecisionReason != "" {
		d += ": " + c.DecisionReason
	}
	if len(added) > 0 {
		d += ". Acknowledged hazards: " + strings.Join(added, ", ")
	}
	return db.AuditEvent{At: *c.DecidedAt, User: c.DecidedBy, Action: "change.approved", Detail: d}
}

// hostOf is the host change id is for: "" for the local host, or when
// it cannot be loaded (the local path then says why).
func (s *Service) hostOf(ctx context.Context, id int64) string {
	c, err := s.DB.Change(ctx, id)
	if err != nil {
		return ""
	}
	return c.Host
}

// onHost names c's host in an audit sentence, "" for the local host.
func onHost(c db.Change) string {
	if c.Host == "" {
		return ""
	}
	return " on host " + c.Host
}

// storedPlan is the plan a stored proposal was made from. Its file was
// planned, and checkStill found it unchanged since; only a proposal stored
// before plans carried their refusal (an operator's rollback of a file that
// cannot be edited) has Error set, and it is refused as it always was.
func storedPlan(c db.Change) plan {
	if c.Error != "" {
		return plan{change: c, fileRefused: errors.New(c.Error)}
	}
	return plan{change: c}
}

// Reject rejects proposal id with a reason; nothing is applied. The author
// may reject (withdraw) their own proposal.
func (s *Service) Reject(ctx context.Context, id int64, actor Actor, reason string) (db.Change, error) {
	reason, err := CheckReason(reason)
	if err != nil {
		return db.Change{}, &InvalidError{Field: "reason", Message: "Say why the change is rejected: the author and the audit log need it."}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.DB.Change(ctx, id)
	if err != nil {
		return db.Change{}, fmt.Errorf("load change %d: %w", id, err)
	}
	if c.Status != db.StatusProposed {
		return db.Change{}, &ConflictError{fmt.Sprintf("Change #%d is %s, not waiting for approval.", id, c.Status)}
	}
	if c.UserID != actor.ID && !actor.canApprove() {
		return db.Change{}, &ForbiddenError{fmt.Sprintf("Only an approver, an admin or its author may reject change #%d.", id)}
	}
	now := s.Now().UTC()
	c.Status, c.UpdatedAt = db.StatusRejected, now
	c.DecidedBy, c.DecidedAt, c.DecisionReason = actor.Name, &now, reason
	stored, err := s.DB.Transition(ctx, []db.Transition{{From: db.StatusProposed, Change: c}},
		[]db.AuditEvent{{At: now, User: actor.Name, Action: "change.rejected",
			Detail: fmt.Sprintf("Rejected change #%d%s by %s: %s", id, onHost(c), c.User, reason)}}, nil)
	if err != nil {
		return db.Change{}, fmt.Errorf("reject change %d: %w", id, err)
	}
	return stored[0], nil
}

// proposal loads change id for actor to decide on.
func (s *Service) proposal(ctx context.Context, id int64, actor Actor, verb string) (db.Change, error) {
	c, err := s.DB.Change(ctx, id)
	if err != nil {
		return db.Change{}, fmt.Errorf("load change %d: %w", id, err)
	}
	if c.Status != db.StatusProposed {
		return db.Change{}, &ConflictError{fmt.Sprintf("Change #%d is %s, not waiting for approval.", id, c.Status)}
	}
	if c.UserID == actor.ID {
		return db.Change{}, &ForbiddenError{fmt.Sprintf("You proposed change #%d: another approver must %s it.", id, verb)}
	}
	// The routes check the role too; the rule belongs here as well.
	if !actor.canApprove() {
		return db.Change{}, &ForbiddenError{fmt.Sprintf("Only an approver or an admin may %s change #%d.", verb, id)}
	}
	return c, nil
}

// recheckHazards checks proposal c's hazards again against st and returns
// the ones ack acknowledges that its author had not; a rollback is never
// gated.
func (s *Service) recheckHazards(c *db.Change, st sysctl.KernelState, ack []string) ([]string, error) {
	s.checkHazards(c, st, proposedReserved(st, *c))
	if c.RollbackOf != nil {
		return nil, nil
	}
	added, err := acknowledge(unacknowledged(*c), ack)
	if err != nil {
		return nil, err
	}
	c.Acknowledged = append(c.Acknowledged, added...)
	return added, nil
}
