// Package change is the one place where the range is changed: validate,
// write the kernel, read it back, persist the config file, record the result
// and its audit event; and roll back. It holds the lock that makes applies
// one at a time. It imports db and sysctl and never HTTP.
package change

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"portpanel/db"
	"portpanel/sysctl"
)

// MaxReasonLen is the longest reason accepted, in characters.
const MaxReasonLen = 500

// Service changes the range. Its zero value is not usable: set every field.
type Service struct {
	Kernel sysctl.Kernel
	Config sysctl.Config
	Reader sysctl.Reader
	// File is the managed sysctl config file (absolute path).
	File string
	DB   *db.DB
	Now  func() time.Time

	// mu serialises everything that writes the kernel or the file, and the
	// sampler, so a sample never sees an apply half done.
	mu sync.Mutex
}

// Actor is who asks for a change.
type Actor struct {
	ID   int64
	Name string
}

// Request is a change of the range to Low–High for Reason.
type Request struct {
	Low, High int
	Reason    string
	Actor     Actor
}

// CheckReason returns the trimmed reason or an InvalidError.
func CheckReason(reason string) (string, error) {
	reason = strings.TrimSpace(reason)
	switch n := utf8.RuneCountInString(reason); {
	case n == 0:
		return "", &InvalidError{Field: "reason", Message: "Give a reason for the change: it goes into the audit log."}
	case n > MaxReasonLen:
		return "", &InvalidError{Field: "reason", Message: fmt.Sprintf("The reason has %d characters; keep it to %d.", n, MaxReasonLen)}
	}
	return reason, nil
}

// Apply validates req and, if it is valid, applies it to the kernel and the
// managed file and records the result.
func (s *Service) Apply(ctx context.Context, req Request) (db.Change, error) {
	reason, err := CheckReason(req.Reason)
	if err != nil {
		return db.Change{}, err
	}
	target := sysctl.Range{Low: req.Low, High: req.High}

	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.Kernel.Read()
	if err != nil {
		return db.Change{}, fmt.Errorf("read kernel: %w", err)
	}
	warnings, err := sysctl.Validate(target, st)
	if err != nil {
		return db.Change{}, err
	}
	p := plan{target: target, before: st.Range, reason: reason, actor: req.Actor, warnings: warnings}
	p.edit, p.editErr = sysctl.PlanFile(s.File, target)
	if p.editErr == nil && target == st.Range && p.edit.Diff == "" {
		return db.Change{}, &InvalidError{Field: "value", Message: fmt.Sprintf(
			"%d–%d is already the running value and the value in %s: there is nothing to change.", target.Low, target.High, s.File)}
	}
	return s.run(ctx, p)
}

// Rollback restores the before value of applied change id, through the same
// pipeline, as a new change that points to it.
func (s *Service) Rollback(ctx context.Context, id int64, reason string, actor Actor) (db.Change, error) {
	if strings.TrimSpace(reason) == "" {
		reason = fmt.Sprintf("Roll back change #%d", id)
	}
	reason, err := CheckReason(reason)
	if err != nil {
		return db.Change{}, err
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	orig, err := s.DB.Change(ctx, id)
	if err != nil {
		return db.Change{}, fmt.Errorf("load change %d: %w", id, err)
	}
	if orig.Status != db.StatusApplied {
		return db.Change{}, &ConflictError{fmt.Sprintf("Change #%d was not applied (%s): there is nothing to roll back.", id, orig.Status)}
	}
	if undone, err := s.appliedRollback(ctx, id); err != nil {
		return db.Change{}, err
	} else if undone != 0 {
		return db.Change{}, &ConflictError{fmt.Sprintf("Change #%d was already rolled back by change #%d.", id, undone)}
	}
	st, err := s.Kernel.Read()
	if err != nil {
		return db.Change{}, fmt.Errorf("read kernel: %w", err)
	}
	target := sysctl.Range{Low: orig.BeforeLow, High: orig.BeforeHigh}
	// The world may have moved on since the change (ip_unprivileged_port_start
	// raised, say): the old value must pass today's rules.
	warnings, err := sysctl.Validate(target, st)
	if err != nil {
		return db.Change{}, err
	}
	p := plan{target: target, before: st.Range, reason: reason, actor: actor, warnings: warnings, rollbackOf: &id}
	p.edit, p.removeFile, p.editErr = s.rollbackEdit(orig, target)
	return s.run(ctx, p)
}

func (s *Service) appliedRollback(ctx context.Context, id int64) (int64, error) {
	later, err := s.DB.RollbacksOf(ctx, id)
	if err != nil {
		return 0, fmt.Errorf("load rollbacks of change %d: %w", id, err)
	}
	for _, c := range later {
		if c.Status == db.StatusApplied {
			return c.ID, nil
		}
	}
	return 0, nil
}

// rollbackEdit restores the file byte for byte when nothing touched it since
// orig wrote it (so an appended line disappears again); otherwise it only
// sets the key back.
func (s *Service) rollbackEdit(orig db.Change, target sysctl.Range) (e sysctl.FileEdit, remove bool, err error) {
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
		e.Notes = []string{fmt.Sprintf("restored the file exactly as it was before change #%d", orig.ID)}
	} else {
		e.Notes = []string{fmt.Sprintf("removed the file: change #%d created it", orig.ID)}
	}
	e.Diff = sysctl.UnifiedDiff(s.File, current, e.After)
	return e, !orig.FileExisted, nil
}

// fileState is the hash recorded for a file after a change; "absent" when
// the change left no file, so a rollback can tell that nothing recreated it.
func fileState(content []byte, existed bool) string {
	if !existed {
		return "absent"
	}
	return sysctl.FileHash(content)
}
