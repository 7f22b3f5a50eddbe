package change

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"portpanel/db"
	"portpanel/sysctl"
)

// Recover resolves changes a crash left half done, before the server
// serves anything. A change left applying is finished when kernel and file
// both reached its new state; otherwise what it changed is put back and it
// is marked failed ("interrupted"). A change left approved never touched
// anything and is marked failed too: applying it now, unattended, could be
// stale. Each outcome is audited. Parts that someone else changed since
// (neither the before nor the after state) are left alone and reported.
func (s *Service) Recover(ctx context.Context) ([]db.Change, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	list, err := s.DB.ChangesByStatus(ctx, db.StatusApplying, db.StatusApproved)
	if err != nil {
		return nil, fmt.Errorf("load interrupted changes: %w", err)
	}
	if _, err := sysctl.RemoveTempFiles(s.File); err != nil {
		return nil, err
	}
	var out []db.Change
	for _, c := range list {
		var r db.Change
		if c.Status == db.StatusApproved {
			r, err = s.markInterrupted(ctx, c, db.StatusApproved, "interrupted after approval, before anything was changed; submit it again")
		} else {
			r, err = s.resolve(ctx, c)
		}
		if err != nil {
			return out, fmt.Errorf("recover change %d: %w", c.ID, err)
		}
		out = append(out, r)
	}
	return out, nil
}

func (s *Service) resolve(ctx context.Context, c db.Change) (db.Change, error) {
	before := sysctl.Range{Low: c.BeforeLow, High: c.BeforeHigh}
	target := sysctl.Range{Low: c.Low, High: c.High}
	kernel, err := s.Kernel.ReadRange()
	if err != nil {
		return db.Change{}, fmt.Errorf("read kernel: %w", err)
	}
	file, err := s.currentFileState()
	if err != nil {
		return db.Change{}, err
	}
	if kernel == target && file == c.FileAfterHash {
		return s.finish(ctx, c)
	}

	var notes []string
	switch kernel {
	case before:
	case target:
		if err := s.Kernel.WriteRange(before); err != nil {
			return db.Change{}, fmt.Errorf("restore kernel to %d %d: %w", before.Low, before.High, err)
		}
		if got, err := s.Kernel.ReadRange(); err != nil || got != before {
			return db.Change{}, fmt.Errorf("restore kernel to %d %d: it reads back %v (%v)", before.Low, before.High, got, err)
		}
		notes = append(notes, fmt.Sprintf("the kernel was restored to %d %d", before.Low, before.High))
	default:
		notes = append(notes, fmt.Sprintf("the kernel has %d %d, set by someone else, and was left alone", kernel.Low, kernel.High))
	}
	switch file {
	case c.BaseFileHash:
	case c.FileAfterHash:
		if err := s.undoFile(c); err != nil {
			return db.Change{}, fmt.Errorf("restore %s: %w", s.File, err)
		}
		notes = append(notes, "the file was restored")
	default:
		notes = append(notes, fmt.Sprintf("%s was edited by someone else and was left alone", s.File))
	}
	reason := "interrupted: portpanel stopped during the apply"
	if len(notes) > 0 {
		reason += "; " + strings.Join(notes, "; ")
	}
	return s.markInterrupted(ctx, c, db.StatusApplying, reason)
}

// finish records c, which reached its new state in kernel and file before
// the crash, as applied. A commit-confirmed window starts now: nobody could
// confirm while portpanel was down.
func (s *Service) finish(ctx context.Context, c db.Change) (db.Change, error) {
	var followers []db.Transition
	if c.RollbackOf != nil {
		orig, err := s.DB.Change(ctx, *c.RollbackOf)
		if err != nil {
			return db.Change{}, fmt.Errorf("load change %d: %w", *c.RollbackOf, err)
		}
		if orig.Status == db.StatusApplied || orig.Status == db.StatusConfirmed {
			followers = append(followers, revertedBy(orig, s.Now().UTC()))
		}
	}
	done := s.appliedNow(c)
	stored, err := s.DB.Transition(ctx, append([]db.Transition{{From: db.StatusApplying, Change: done}}, followers...),
		[]db.AuditEvent{{At: done.UpdatedAt, User: SystemUser, Action: "change.recovered", ChangeID: &c.ID, Detail: fmt.Sprintf(
			"Change #%d was interrupted after kernel and file had reached %d %d; recorded as applied. %s", c.ID, c.Low, c.High, detail(done))}},
		&db.Sample{At: done.UpdatedAt, Low: c.Low, High: c.High, Source: db.SourceChange})
	if err != nil {
		return db.Change{}, fmt.Errorf("record change %d as applied: %w", c.ID, err)
	}
	return stored[0], nil
}

func (s *Service) markInterrupted(ctx context.Context, c db.Change, from, reason string) (db.Change, error) {
	c.Status, c.Error, c.UpdatedAt = db.StatusFailed, reason, s.Now().UTC()
	stored, err := s.DB.Transition(ctx, []db.Transition{{From: from, Change: c}},
		[]db.AuditEvent{{At: c.UpdatedAt, User: SystemUser, Action: "change.interrupted", ChangeID: &c.ID, Detail: fmt.Sprintf(
			"Change #%d: %s", c.ID, reason)}}, nil)
	if err != nil {
		return db.Change{}, errors.Join(fmt.Errorf("record change %d as failed", c.ID), err)
	}
	return stored[0], nil
}
