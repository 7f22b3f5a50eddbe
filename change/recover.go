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
		if c.Host != "" {
			continue // another host's: its agent recovers what it applies
		}
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
	reserved := ""
	if c.ReservedPorts != nil {
		if reserved, err = s.Kernel.ReadReserved(); err != nil {
			return db.Change{}, fmt.Errorf("read kernel: %w", err)
		}
	}
	file, err := s.currentFileState()
	if err != nil {
		return db.Change{}, err
	}
	reservedDone := c.ReservedPorts == nil || reserved == *c.ReservedPorts
	if kernel == target && reservedDone && file == c.FileAfterHash {
		return s.finish(ctx, c)
	}

	// Each key that has the change's value goes back, in the reverse of
	// the order the apply wrote them; one someone else set is left alone.
	var notes []string
	writes := s.keyWrites(c)
	for i := len(writes) - 1; i >= 0; i-- {
		w := writes[i]
		var now, was, will string
		if w.key == sysctl.Key {
			now, was, will = rangeWords(kernel), rangeWords(before), rangeWords(target)
		} else {
			now, was, will = reserved, *c.BeforeReservedPorts, *c.ReservedPorts
		}
		switch now {
		case was:
		case will:
			if err := w.revert(); err != nil {
				return db.Change{}, fmt.Errorf("restore %s to %s: %w", w.name, w.beforeText, err)
			}
			notes = append(notes, fmt.Sprintf("the kernel was restored to %s", w.beforeText))
		default:
			if w.key == sysctl.Key {
				notes = append(notes, fmt.Sprintf("the kernel has %s, set by someone else, and was left alone", now))
			} else {
				notes = append(notes, fmt.Sprintf("the kernel has reserved ports %s, set by someone else, and they were left alone", portsText(now)))
			}
		}
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

// targetWords is what c sets, as the kernel shows it.
func targetWords(c db.Change) string {
	s := fmt.Sprintf("%d %d", c.Low, c.High)
	if c.ReservedPorts != nil {
		s += " and reserved ports " + portsText(*c.ReservedPorts)
	}
	return s
}

func rangeWords(r sysctl.Range) string { return fmt.Sprintf("%d %d", r.Low, r.High) }

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
			"Change #%d was interrupted after kernel and file had reached %s; recorded as applied. %s", c.ID, targetWords(c), detail(done))}},
		s.changeSample(done))
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
