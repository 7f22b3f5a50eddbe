package change

import (
	"context"
	"errors"
	"fmt"

	"portpanel/change/fault"
	"portpanel/db"
	"portpanel/sysctl"
)

// start applies planned change c. It first stores c as applying, with its
// before state and planned file (a new row, or the stored change moving
// from status from), so a crash at any later step can be resolved at the
// next start (Recover). followers move with the final transition (the
// change a rollback reverts, say).
func (s *Service) start(ctx context.Context, c db.Change, from string, followers ...db.Transition) (db.Change, error) {
	if c.Error != "" { // the file cannot be edited: nothing will be touched
		return s.refuse(ctx, c, from)
	}
	c.Status = db.StatusApplying
	c.UpdatedAt = s.Now().UTC()
	event := db.AuditEvent{At: c.UpdatedAt, User: c.User, Action: "change.applying", Detail: detail(c)}
	if from == "" {
		stored, _, err := s.DB.RecordChange(ctx, c, event, nil)
		if err != nil {
			return db.Change{}, fmt.Errorf("record change before applying it: %w", err)
		}
		c = stored
	} else {
		event.ChangeID = &c.ID
		stored, err := s.DB.Transition(ctx, []db.Transition{{From: from, Change: c}}, []db.AuditEvent{event}, nil)
		if err != nil {
			return db.Change{}, fmt.Errorf("record change %d before applying it: %w", c.ID, err)
		}
		c = stored[0]
	}
	fault.Point(fault.IntentRecorded)
	return s.execute(ctx, c, followers)
}

// execute writes kernel and file for c (stored as applying) and records the
// outcome. Whatever fails, kernel and file end as they were before and c
// is recorded as failed.
func (s *Service) execute(ctx context.Context, c db.Change, followers []db.Transition) (db.Change, error) {
	before := sysctl.Range{Low: c.BeforeLow, High: c.BeforeHigh}
	target := sysctl.Range{Low: c.Low, High: c.High}
	if err := s.writeKernel(target); err != nil {
		var refused *sysctl.KernelRefusedError
		return s.fail(ctx, c, errors.As(err, &refused), fmt.Errorf("%w; nothing was changed", err))
	}
	if got, err := s.Kernel.ReadRange(); err != nil || got != target {
		if err == nil {
			err = fmt.Errorf("the kernel reads back %d %d after writing %d %d", got.Low, got.High, target.Low, target.High)
		}
		return s.fail(ctx, c, false, s.putKernelBack(before, err))
	}
	fault.Point(fault.KernelWritten)
	if err := s.writeFile(c); err != nil {
		err = fmt.Errorf("the file was not written: %w", err)
		if uerr := s.undoFile(c); uerr != nil { // a failed rename leaves the old file; this is belt and braces
			err = fmt.Errorf("%w; restoring the file failed: %v", err, uerr)
		}
		return s.fail(ctx, c, false, s.putKernelBack(before, err))
	}
	fault.Point(fault.FileRenamed)

	done := s.appliedNow(c)
	events := []db.AuditEvent{{At: done.UpdatedAt, User: c.User, Action: appliedAction(c), Detail: detail(done) + diffDetail(c.Diff)}}
	stored, err := s.DB.Transition(ctx, append([]db.Transition{{From: db.StatusApplying, Change: done}}, followers...), events,
		&db.Sample{At: done.UpdatedAt, Low: c.Low, High: c.High, Source: db.SourceChange})
	if err != nil {
		// An unrecorded change must not stay: put file and kernel back.
		cause := fmt.Errorf("record change %d as applied: %w", c.ID, err)
		if ferr := s.undoFile(c); ferr != nil {
			cause = errors.Join(cause, fmt.Errorf("restore %s: %w", s.File, ferr))
		}
		return s.fail(ctx, c, false, s.putKernelBack(before, cause))
	}
	fault.Point(fault.DBUpdated)
	return stored[0], nil
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

// refuse records c, which never touched anything, as failed.
func (s *Service) refuse(ctx context.Context, c db.Change, from string) (db.Change, error) {
	c.Status = db.StatusFailed
	c.UpdatedAt = s.Now().UTC()
	event := db.AuditEvent{At: c.UpdatedAt, User: c.User, Action: "change.failed", Detail: detail(c)}
	var stored db.Change
	if from == "" {
		var err error
		if stored, _, err = s.DB.RecordChange(ctx, c, event, nil); err != nil {
			return db.Change{}, fmt.Errorf("record failed change: %w", err)
		}
	} else {
		event.ChangeID = &c.ID
		list, err := s.DB.Transition(ctx, []db.Transition{{From: from, Change: c}}, []db.AuditEvent{event}, nil)
		if err != nil {
			return db.Change{}, fmt.Errorf("record change %d as failed: %w", c.ID, err)
		}
		stored = list[0]
	}
	return stored, &FailedError{Change: stored, Err: errors.New(c.Error)}
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

// putKernelBack restores the before value after cause, and says whether it
// worked: a kernel left on the new value must never go unreported.
func (s *Service) putKernelBack(before sysctl.Range, cause error) error {
	if err := s.writeKernel(before); err != nil {
		return fmt.Errorf("%w; restoring the kernel to %d %d FAILED: %v", cause, before.Low, before.High, err)
	}
	if got, err := s.Kernel.ReadRange(); err != nil || got != before {
		return fmt.Errorf("%w; restoring the kernel to %d %d could not be verified (reads %v, %v)", cause, before.Low, before.High, got, err)
	}
	return fmt.Errorf("%w; the kernel was restored to %d %d", cause, before.Low, before.High)
}

func detail(c db.Change) string {
	d := fmt.Sprintf("%s %d %d → %d %d (%s)", sysctl.Key, c.BeforeLow, c.BeforeHigh, c.Low, c.High, c.File)
	if c.RollbackOf != nil {
		d += fmt.Sprintf(", rolling back change #%d", *c.RollbackOf)
	}
	if c.Emergency {
		d += ", emergency: applied without approval"
	}
	if c.ConfirmWithin > 0 {
		d += fmt.Sprintf(", reverts unless confirmed within %s", c.ConfirmWithin)
	}
	d += ". Reason: " + c.Reason
	if c.Error != "" {
		d += ". Failed: " + c.Error
	}
	return d
}

// diffDetail appends the file diff to an audit detail, so the audit entry
// itself shows what was written.
func diffDetail(diff string) string {
	if diff == "" {
		return ""
	}
	return "\n" + diff
}
