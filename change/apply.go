package change

import (
	"context"
	"errors"
	"fmt"

	"portpanel/db"
	"portpanel/sysctl"
)

// plan is one validated attempt, ready to run.
type plan struct {
	target, before sysctl.Range
	reason         string
	actor          Actor
	warnings       []string
	rollbackOf     *int64
	edit           sysctl.FileEdit
	editErr        error // the file cannot be edited: refuse before the kernel
	removeFile     bool  // a rollback of the change that created the file
}

// run applies p: kernel, read back, file, record. Whatever fails, kernel and
// file end as they were before and the attempt is recorded as failed.
func (s *Service) run(ctx context.Context, p plan) (db.Change, error) {
	c := db.Change{
		Low: p.target.Low, High: p.target.High,
		BeforeLow: p.before.Low, BeforeHigh: p.before.High,
		Reason: p.reason, UserID: p.actor.ID, User: p.actor.Name,
		CreatedAt: s.Now().UTC(), File: s.File, RollbackOf: p.rollbackOf,
		Warnings: append(append([]string(nil), p.warnings...), p.edit.Notes...),
	}
	if p.editErr != nil {
		return s.fail(ctx, c, false, fmt.Errorf("%s cannot be edited, so nothing was changed: %w", s.File, p.editErr))
	}
	c.Diff, c.FileExisted, c.FileBefore = p.edit.Diff, p.edit.Existed, p.edit.Before

	if err := s.Kernel.WriteRange(p.target); err != nil {
		var refused *sysctl.KernelRefusedError
		return s.fail(ctx, c, errors.As(err, &refused), fmt.Errorf("%w; nothing was changed", err))
	}
	if got, err := s.Kernel.ReadRange(); err != nil || got != p.target {
		if err == nil {
			err = fmt.Errorf("the kernel reads back %d %d after writing %d %d", got.Low, got.High, p.target.Low, p.target.High)
		}
		return s.fail(ctx, c, false, s.putKernelBack(p.before, err))
	}
	if err := s.writeFile(p); err != nil {
		return s.fail(ctx, c, false, s.putKernelBack(p.before, fmt.Errorf("the file was not written: %w", err)))
	}

	c.Status = db.StatusApplied
	c.FileAfterHash = fileState(p.edit.After, !p.removeFile)
	action := "change.applied"
	if p.rollbackOf != nil {
		action = "change.rolled_back"
	}
	stored, _, err := s.DB.RecordChange(ctx, c,
		db.AuditEvent{At: c.CreatedAt, User: c.User, Action: action, Detail: detail(c)},
		&db.Sample{At: c.CreatedAt, Low: c.Low, High: c.High, Source: db.SourceChange})
	if err != nil {
		// Unrecorded changes must not stay: put file and kernel back.
		ferr := s.undoFile(p)
		return db.Change{}, s.putKernelBack(p.before, errors.Join(fmt.Errorf("record change: %w", err), ferr))
	}
	return stored, nil
}

// fail records c as failed with err and returns a FailedError.
func (s *Service) fail(ctx context.Context, c db.Change, kernelRefused bool, err error) (db.Change, error) {
	c.Status = db.StatusFailed
	c.Error = err.Error()
	c.Diff = ""
	stored, _, rerr := s.DB.RecordChange(ctx, c,
		db.AuditEvent{At: c.CreatedAt, User: c.User, Action: "change.failed", Detail: detail(c)}, nil)
	if rerr != nil {
		return db.Change{}, errors.Join(err, fmt.Errorf("record failed change: %w", rerr))
	}
	return stored, &FailedError{Change: stored, KernelRefused: kernelRefused, Err: err}
}

func (s *Service) writeFile(p plan) error {
	switch {
	case p.removeFile:
		return sysctl.RemoveFile(s.File)
	case p.edit.Diff == "" && p.edit.Existed:
		return nil // the file already says so
	}
	return sysctl.WriteFileAtomic(s.File, p.edit.After)
}

// undoFile puts the file back as it was before writeFile.
func (s *Service) undoFile(p plan) error {
	if !p.removeFile && p.edit.Diff == "" && p.edit.Existed {
		return nil
	}
	if !p.edit.Existed {
		return sysctl.RemoveFile(s.File)
	}
	return sysctl.WriteFileAtomic(s.File, p.edit.Before)
}

// putKernelBack restores the before value after cause, and says whether it
// worked: a kernel left on the new value must never go unreported.
func (s *Service) putKernelBack(before sysctl.Range, cause error) error {
	if err := s.Kernel.WriteRange(before); err != nil {
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
	d += ". Reason: " + c.Reason
	if c.Error != "" {
		d += ". Failed: " + c.Error
	}
	return d
}
