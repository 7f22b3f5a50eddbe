package change

import (
	"context"
	"fmt"
	"time"

	"portpanel/db"
	"portpanel/sysctl"
)

// plan validates req against the kernel and the file as they are now and
// returns the change it would make, not yet stored. A file that cannot be
// edited gives a change with Error set: Apply records that attempt as
// failed, without touching anything.
func (s *Service) plan(ctx context.Context, req Request) (db.Change, error) {
	reason, err := CheckReason(req.Reason)
	if err != nil {
		return db.Change{}, err
	}
	if err := CheckConfirmWithin(req.ConfirmWithin); err != nil {
		return db.Change{}, err
	}
	target := sysctl.Range{Low: req.Low, High: req.High}
	st, err := s.Kernel.Read()
	if err != nil {
		return db.Change{}, fmt.Errorf("read kernel: %w", err)
	}
	// Stale first: a value chosen against an old state is answered with
	// what changed, not with rules that may only fail because of it.
	if req.Base != nil && *req.Base != st.Range {
		return db.Change{}, staleRuntime(*req.Base, st.Range)
	}
	warnings, err := sysctl.Validate(target, st)
	if err != nil {
		return db.Change{}, err
	}
	if err := s.refuseWhileAwaiting(ctx, 0); err != nil {
		return db.Change{}, err
	}
	now := s.Now().UTC()
	c := db.Change{
		Low: target.Low, High: target.High, BeforeLow: st.Range.Low, BeforeHigh: st.Range.High,
		Reason: reason, UserID: req.Actor.ID, User: req.Actor.Name, CreatedAt: now, UpdatedAt: now,
		File: s.File, Warnings: warnings, ConfirmWithin: req.ConfirmWithin,
	}
	edit, editErr := sysctl.PlanFile(s.File, target)
	if editErr != nil {
		c.Error = fmt.Sprintf("%s cannot be edited, so nothing was changed: %v", s.File, editErr)
		return c, nil
	}
	setEdit(&c, edit, false)
	if req.BaseFile != "" && req.BaseFile != c.BaseFileHash {
		return db.Change{}, &ConflictError{fmt.Sprintf(
			"%s changed since you reviewed this change (someone edited it): review the change again.", s.File)}
	}
	if target == st.Range && edit.Diff == "" {
		return db.Change{}, &InvalidError{Field: "value", Message: fmt.Sprintf(
			"%d–%d is already the running value and the value in %s: there is nothing to change.", target.Low, target.High, s.File)}
	}
	return c, nil
}

// setEdit stores a planned file edit in c: what the file is now (to check
// staleness and to restore), what it will be, and the diff.
func setEdit(c *db.Change, e sysctl.FileEdit, remove bool) {
	c.FileExisted, c.FileBefore = e.Existed, e.Before
	c.BaseFileHash = fileState(e.Before, e.Existed)
	c.RemoveFile = remove
	c.FileAfter = e.After
	if remove {
		c.FileAfter = nil
	}
	c.FileAfterHash = fileState(e.After, !remove)
	c.Diff = e.Diff
	c.Notes = e.Notes
}

// staleRuntime is the refusal of a change based on a value the kernel no
// longer has.
func staleRuntime(base, now sysctl.Range) error {
	return &ConflictError{fmt.Sprintf(
		"The running range is now %d–%d, not the %d–%d this change was based on: someone changed it since. Start a new change from the current value.",
		now.Low, now.High, base.Low, base.High)}
}

// refuseWhileAwaiting refuses any change while another one awaits
// confirmation, except a rollback of that one (except): its automatic
// revert would otherwise undo whatever came after it.
func (s *Service) refuseWhileAwaiting(ctx context.Context, except int64) error {
	list, err := s.DB.AwaitingConfirmation(ctx)
	if err != nil {
		return fmt.Errorf("load changes awaiting confirmation: %w", err)
	}
	for _, w := range list {
		if w.ID != except {
			return &ConflictError{fmt.Sprintf(
				"Change #%d awaits confirmation until %s: confirm it or roll it back before making another change.",
				w.ID, w.ConfirmBy.UTC().Format(time.TimeOnly+" MST"))}
		}
	}
	return nil
}

// checkStill refuses to apply a stored change (a proposal, a rollback)
// whose basis moved: the kernel no longer has its before value, or the file
// is not the one it was planned on. It returns the kernel state for
// re-validation.
func (s *Service) checkStill(c db.Change) (sysctl.KernelState, error) {
	st, err := s.Kernel.Read()
	if err != nil {
		return sysctl.KernelState{}, fmt.Errorf("read kernel: %w", err)
	}
	if base := (sysctl.Range{Low: c.BeforeLow, High: c.BeforeHigh}); st.Range != base {
		return sysctl.KernelState{}, staleRuntime(base, st.Range)
	}
	state, err := s.currentFileState()
	if err != nil {
		return sysctl.KernelState{}, err
	}
	if c.BaseFileHash != "" && state != c.BaseFileHash {
		return sysctl.KernelState{}, &ConflictError{fmt.Sprintf(
			"%s changed since change #%d was planned (someone edited it): start a new change from the current state.", s.File, c.ID)}
	}
	return st, nil
}
