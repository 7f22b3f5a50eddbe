package change

import (
	"context"
	"fmt"
	"strings"
	"time"

	"portpanel/db"
	"portpanel/sysctl"
)

// Rollback restores the before value of applied change id, through the same
// pipeline, as a new change that points to it; the original becomes
// reverted. With approval required, an operator's rollback becomes a
// proposal, while an approver's or admin's applies at once, marked as an
// emergency.
func (s *Service) Rollback(ctx context.Context, id int64, reason string, actor Actor) (db.Change, error) {
	if strings.TrimSpace(reason) == "" {
		reason = fmt.Sprintf("Roll back change #%d", id)
	}
	reason, err := CheckReason(reason)
	if err != nil {
		return db.Change{}, err
	}
	if host := s.hostOf(ctx, id); host != "" {
		return s.rollbackRemote(ctx, host, id, reason, actor)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	orig, err := s.rollbackable(ctx, id)
	if err != nil {
		return db.Change{}, err
	}
	if err := s.refuseWhileAwaiting(ctx, id); err != nil {
		return db.Change{}, err
	}
	p, err := s.planRollback(orig, reason, actor)
	if err != nil {
		return db.Change{}, err
	}
	if s.RequireApproval {
		if !actor.canApprove() {
			return s.propose(ctx, p)
		}
		p.change.Emergency = true
	}
	return s.start(ctx, p, "", revertedBy(orig, s.Now().UTC()))
}

// rollbackable loads change id and checks that its effect can be undone.
func (s *Service) rollbackable(ctx context.Context, id int64) (db.Change, error) {
	orig, err := s.DB.Change(ctx, id)
	if err != nil {
		return db.Change{}, fmt.Errorf("load change %d: %w", id, err)
	}
	switch orig.Status {
	case db.StatusApplied, db.StatusConfirmed:
	case db.StatusReverted:
		return db.Change{}, &ConflictError{fmt.Sprintf("Change #%d was already rolled back.", id)}
	default:
		return db.Change{}, &ConflictError{fmt.Sprintf("Change #%d was not applied (%s): there is nothing to roll back.", id, orig.Status)}
	}
	// Rows from before the reverted status existed mark only the rollback.
	later, err := s.DB.RollbacksOf(ctx, id)
	if err != nil {
		return db.Change{}, fmt.Errorf("load rollbacks of change %d: %w", id, err)
	}
	for _, r := range later {
		if r.Status == db.StatusApplied || r.Status == db.StatusConfirmed {
			return db.Change{}, &ConflictError{fmt.Sprintf("Change #%d was already rolled back by change #%d.", id, r.ID)}
		}
	}
	return orig, nil
}

// planRollback plans the change that restores orig's before value, checked
// against today's kernel: the world may have moved on since orig
// (ip_unprivileged_port_start raised, say).
func (s *Service) planRollback(orig db.Change, reason string, actor Actor) (plan, error) {
	st, err := s.Kernel.Read()
	if err != nil {
		return plan{}, fmt.Errorf("read kernel: %w", err)
	}
	// The reserved ports go back too when orig set them: to the list the
	// kernel had, which may hold what a person could not type (port 0).
	target := sysctl.Target{Range: sysctl.Range{Low: orig.BeforeLow, High: orig.BeforeHigh}, Reserved: orig.BeforeReservedPorts}
	warnings, err := sysctl.Validate(target.Range, afterState(st, target.Reserved))
	if err != nil {
		return plan{}, err
	}
	now := s.Now().UTC()
	id := orig.ID
	c := db.Change{
		Low: target.Range.Low, High: target.Range.High, BeforeLow: st.Range.Low, BeforeHigh: st.Range.High,
		Reason: reason, UserID: actor.ID, User: actor.Name, CreatedAt: now, UpdatedAt: now,
		File: s.File, Warnings: warnings, RollbackOf: &id,
	}
	if target.Reserved != nil {
		before := st.ReservedPorts
		c.ReservedPorts, c.BeforeReservedPorts = target.Reserved, &before
	}
	edit, remove, err := s.rollbackEdit(orig, target)
	if err != nil {
		return plan{change: c, fileRefused: s.cannotEdit(err)}, nil
	}
	setEdit(&c, edit, remove)
	s.checkHazards(&c, st, proposedReserved(st, c)) // recorded, never gated (hazards.go)
	return plan{change: c}, nil
}

// revertedBy is the transition that marks orig reverted when its rollback
// is recorded as applied.
func revertedBy(orig db.Change, at time.Time) db.Transition {
	r := orig
	r.Status = db.StatusReverted
	r.UpdatedAt = at
	return db.Transition{From: orig.Status, Change: r}
}

// rollbackEdit restores the file byte for byte when nothing touched it since
// orig wrote it (so an appended line disappears again); otherwise it only
// sets the key back.
func (s *Service) rollbackEdit(orig db.Change, target sysctl.Target) (e sysctl.FileEdit, remove bool, err error) {
	if orig.File != s.File || orig.FileAfterHash == "" {
		e, err = sysctl.PlanFile(s.File, target)
		return e, false, err
	}
	current, existed, err := sysctl.ReadConfigFile(s.File)
	if err != nil {
		return sysctl.FileEdit{}, false, err
	}
	if fileState(current, existed) != orig.FileAfterHash {
		e, err = sysctl.PlanFile(s.File, target)
		return e, false, err
	}
	e = sysctl.FileEdit{Path: s.File, Existed: existed, Before: current, After: orig.FileBefore}
	if orig.FileExisted {
		e.Notes = []string{fmt.Sprintf("restores the file exactly as it was before change #%d", orig.ID)}
	} else {
		e.Notes = []string{fmt.Sprintf("removes the file: change #%d created it", orig.ID)}
	}
	e.Diff = sysctl.UnifiedDiff(s.File, current, e.After)
	return e, !orig.FileExisted, nil
}
