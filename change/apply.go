package change

// The apply path, top to bottom: plan a request against the kernel and the
// file as they are now; record the intent; write the kernel and read it
// back; write the file; record the result. Whatever fails puts back what
// the steps before it changed. The crash tests kill the process at each
// fault.Point; Recover finishes or undoes what they interrupt. Rollbacks,
// automatic reverts and approvals enter the same path at start.

import (
	"context"
	"errors"
	"fmt"

	"portpanel/change/fault"
	"portpanel/db"
	"portpanel/sysctl"
)

// Apply validates req and applies it to the kernel and the managed file,
// recording the result; or, when approval is required, records it as a
// proposal and changes nothing.
func (s *Service) Apply(ctx context.Context, req Request) (db.Change, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, err := s.plan(ctx, req)
	if err != nil {
		return db.Change{}, err
	}
	if p.change.Acknowledged, err = acknowledge(p.change.Hazards, req.Acknowledge); err != nil {
		return db.Change{}, err
	}
	if s.RequireApproval {
		return s.propose(ctx, p)
	}
	return s.start(ctx, p, "")
}

// plan is a change worked out against the kernel and the file as they are
// now, not yet stored.
type plan struct {
	change db.Change
	// fileRefused, when not nil, says why the managed file cannot be
	// edited. Such a plan never touches anything: Preview refuses it, and
	// start records it as a failed attempt (propose too: a proposal of it
	// could only fail when approved).
	fileRefused error
}

// plan validates req and works out the change it would make.
func (s *Service) plan(ctx context.Context, req Request) (plan, error) {
	reason, err := CheckReason(req.Reason)
	if err != nil {
		return plan{}, err
	}
	if err := CheckConfirmWithin(req.ConfirmWithin); err != nil {
		return plan{}, err
	}
	if err := checkAcknowledge(req.Acknowledge); err != nil {
		return plan{}, err
	}
	target := sysctl.Target{Range: sysctl.Range{Low: req.Low, High: req.High}}
	st, err := s.Kernel.Read()
	if err != nil {
		return plan{}, fmt.Errorf("read kernel: %w", err)
	}
	// Stale first: a value chosen against an old state is answered with
	// what changed, not with rules that may only fail because of it.
	if req.Base != nil && *req.Base != st.Range {
		return plan{}, staleRuntime(*req.Base, st.Range)
	}
	if req.BaseReserved != nil && *req.BaseReserved != st.ReservedPorts {
		return plan{}, staleReserved(*req.BaseReserved, st.ReservedPorts)
	}
	if req.ReservedPorts != nil {
		list, err := sysctl.CheckReservedPorts(*req.ReservedPorts)
		if err != nil {
			return plan{}, err
		}
		target.Reserved = &list
	}
	warnings, err := sysctl.Validate(target.Range, afterState(st, target.Reserved))
	if err != nil {
		return plan{}, err
	}
	if err := s.refuseWhileAwaiting(ctx, 0); err != nil {
		return plan{}, err
	}
	now := s.Now().UTC()
	c := db.Change{
		Low: target.Range.Low, High: target.Range.High, BeforeLow: st.Range.Low, BeforeHigh: st.Range.High,
		Reason: reason, UserID: req.Actor.ID, User: req.Actor.Name, CreatedAt: now, UpdatedAt: now,
		File: s.File, Warnings: warnings, ConfirmWithin: req.ConfirmWithin,
	}
	if target.Reserved != nil {
		before := st.ReservedPorts
		c.ReservedPorts, c.BeforeReservedPorts = target.Reserved, &before
	}
	edit, err := sysctl.PlanFile(s.File, target)
	if err != nil {
		return plan{change: c, fileRefused: s.cannotEdit(err)}, nil
	}
	setEdit(&c, edit, false)
	if req.BaseFile != "" && req.BaseFile != c.BaseFileHash {
		return plan{}, &ConflictError{fmt.Sprintf(
			"%s changed since you reviewed this change (someone edited it): review the change again.", s.File)}
	}
	if target.Range == st.Range && edit.Diff == "" && (target.Reserved == nil || *target.Reserved == st.ReservedPorts) {
		return plan{}, &InvalidError{Field: "value", Message: fmt.Sprintf(
			"%s is already the running value and the value in %s: there is nothing to change.", targetText(target), s.File)}
	}
	boot, err := s.bootWarnings(target, edit.After)
	if err != nil {
		return plan{}, err
	}
	c.Warnings = append(c.Warnings, boot...)
	s.checkHazards(&c, st, proposedReserved(st, c))
	return plan{change: c}, nil
}

// afterState is st as the range's rules see it once the change is made:
// with its reserved ports, when it sets them.
func afterState(st sysctl.KernelState, reserved *string) sysctl.KernelState {
	if reserved != nil {
		st.ReservedPorts = *reserved
	}
	return st
}

// targetOf is what stored change c sets.
func targetOf(c db.Change) sysctl.Target {
	return sysctl.Target{Range: sysctl.Range{Low: c.Low, High: c.High}, Reserved: c.ReservedPorts}
}

// propose records p as a proposal waiting for approval.
func (s *Service) propose(ctx context.Context, p plan) (db.Change, error) {
	if p.fileRefused != nil {
		return s.refuse(ctx, p, "")
	}
	c := p.change
	c.Status = db.StatusProposed
	stored, _, err := s.DB.RecordChange(ctx, c, db.AuditEvent{
		At: c.CreatedAt, User: c.User, Action: "change.proposed", Detail: detail(c) + diffDetail(c.Diff)}, nil)
	if err != nil {
		return db.Change{}, fmt.Errorf("record proposal: %w", err)
	}
	return stored, nil
}

// start applies p. It first stores p's change as applying, with its before
// state and planned file (a new row, or the stored change moving from
// status from), so a crash at any later step can be resolved at the next
// start (Recover). followers move with the final transition (the change a
// rollback reverts, say).
func (s *Service) start(ctx context.Context, p plan, from string, followers ...db.Transition) (db.Change, error) {
	if p.fileRefused != nil {
		return s.refuse(ctx, p, from)
	}
	c := p.change
	c.Status = db.StatusApplying
	c.UpdatedAt = s.Now().UTC()
	c, err := s.record(ctx, c, from, db.AuditEvent{At: c.UpdatedAt, User: c.User, Action: "change.applying", Detail: detail(c)})
	if err != nil {
		return db.Change{}, fmt.Errorf("record change before applying it: %w", err)
	}
	fault.Point(fault.IntentRecorded)
	return s.execute(ctx, c, followers)
}

// execute writes kernel and file for c (stored as applying) and records the
// outcome. Whatever fails, kernel and file end as they were before and c
// is recorded as failed.
func (s *Service) execute(ctx context.Context, c db.Change, followers []db.Transition) (db.Change, error) {
	if refused, err := s.writeKernel(c); err != nil {
		return s.fail(ctx, c, refused, err)
	}
	fault.Point(fault.KernelWritten)

	if err := s.writeFile(c); err != nil {
		err = fmt.Errorf("the file was not written: %w", err)
		if uerr := s.undoFile(c); uerr != nil { // a failed rename leaves the old file; this is belt and braces
			err = fmt.Errorf("%w; restoring the file failed: %v", err, uerr)
		}
		return s.fail(ctx, c, false, s.putKernelBack(c, err))
	}
	fault.Point(fault.FileRenamed)

	done := s.appliedNow(c)
	events := []db.AuditEvent{{At: done.UpdatedAt, User: c.User, Action: appliedAction(c), Detail: detail(done) + diffDetail(c.Diff)}}
	stored, err := s.DB.Transition(ctx, append([]db.Transition{{From: db.StatusApplying, Change: done}}, followers...), events,
		s.changeSample(done))
	if err != nil {
		// An unrecorded change must not stay: put file and kernel back.
		cause := fmt.Errorf("record change %d as applied: %w", c.ID, err)
		if ferr := s.undoFile(c); ferr != nil {
			cause = errors.Join(cause, fmt.Errorf("restore %s: %w", s.File, ferr))
		}
		return s.fail(ctx, c, false, s.putKernelBack(c, cause))
	}
	fault.Point(fault.DBUpdated)
	return stored[0], nil
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

// cannotEdit is a plan's refusal of a managed file it cannot edit.
func (s *Service) cannotEdit(err error) error {
	return fmt.Errorf("%s cannot be edited, so nothing was changed: %w", s.File, err)
}

// record stores c with its audit event: as a new row, or as the stored
// change moving from status from.
func (s *Service) record(ctx context.Context, c db.Change, from string, event db.AuditEvent) (db.Change, error) {
	if from == "" {
		stored, _, err := s.DB.RecordChange(ctx, c, event, nil)
		return stored, err
	}
	event.ChangeID = &c.ID
	stored, err := s.DB.Transition(ctx, []db.Transition{{From: from, Change: c}}, []db.AuditEvent{event}, nil)
	if err != nil {
		return db.Change{}, fmt.Errorf("change %d: %w", c.ID, err)
	}
	return stored[0], nil
}

// writeFile brings the managed file to c's planned state.
func (s *Service) writeFile(c db.Change) error {
	defer s.fileWrites.Add(1) // Status's cached boot value is stale now
	switch {
	case c.RemoveFile:
		return sysctl.RemoveFile(s.File)
	case c.BaseFileHash == c.FileAfterHash:
		return nil // the file already says so
	}
	return sysctl.WriteFileAtomicHooked(s.File, c.FileAfter, func() { fault.Point(fault.TempWritten) })
}

// appliedNow is c as recorded once applied: a commit-confirmed window
// starts now.
func (s *Service) appliedNow(c db.Change) db.Change {
	c.Status = db.StatusApplied
	c.UpdatedAt = s.Now().UTC()
	if c.ConfirmWithin > 0 {
		by := c.UpdatedAt.Add(c.ConfirmWithin)
		c.ConfirmBy = &by
	}
	return c
}

func appliedAction(c db.Change) string {
	if c.RollbackOf != nil {
		return "change.rolled_back"
	}
	return "change.applied"
}

// refuse records p, whose file cannot be edited, as failed: nothing was
// touched. from is as for start.
func (s *Service) refuse(ctx context.Context, p plan, from string) (db.Change, error) {
	c := p.change
	c.Status = db.StatusFailed
	c.Error = p.fileRefused.Error()
	c.UpdatedAt = s.Now().UTC()
	stored, err := s.record(ctx, c, from, db.AuditEvent{At: c.UpdatedAt, User: c.User, Action: "change.failed", Detail: detail(c)})
	if err != nil {
		return db.Change{}, fmt.Errorf("record failed change: %w", err)
	}
	return stored, &FailedError{Change: stored, Err: p.fileRefused}
}

// fail records c (stored as applying) as failed with err and returns a
// FailedError. If even that cannot be recorded, c stays applying and the
// next start resolves it: kernel and file are already back.
func (s *Service) fail(ctx context.Context, c db.Change, kernelRefused bool, err error) (db.Change, error) {
	c.Status = db.StatusFailed
	c.Error = err.Error()
	c.UpdatedAt = s.Now().UTC()
	stored, rerr := s.DB.Transition(ctx, []db.Transition{{From: db.StatusApplying, Change: c}},
		[]db.AuditEvent{{At: c.UpdatedAt, User: c.User, Action: "change.failed", Detail: detail(c), ChangeID: &c.ID}}, nil)
	if rerr != nil {
		return db.Change{}, errors.Join(err, fmt.Errorf("record change %d as failed: %w", c.ID, rerr))
	}
	return stored[0], &FailedError{Change: stored[0], KernelRefused: kernelRefused, Err: err}
}

// changeSample is the history sample of applied change c: the range it
// set and the reserved ports the kernel then holds (its own, or those it
// left alone, read now).
func (s *Service) changeSample(c db.Change) *db.Sample {
	sm := &db.Sample{At: c.UpdatedAt, Low: c.Low, High: c.High, Source: db.SourceChange, ReservedPorts: c.ReservedPorts}
	if sm.ReservedPorts == nil {
		if list, err := s.Kernel.ReadReserved(); err == nil {
			sm.ReservedPorts = &list
		}
	}
	return sm
}

// undoFile puts the managed file back as it was before c.
func (s *Service) undoFile(c db.Change) error {
	defer s.fileWrites.Add(1) // Status's cached boot value is stale now
	state, err := s.currentFileState()
	switch {
	case err != nil:
		return err
	case state == c.BaseFileHash:
		return nil
	case !c.FileExisted:
		return sysctl.RemoveFile(s.File)
	}
	return sysctl.WriteFileAtomic(s.File, c.FileBefore)
}
