package change

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"portpanel/agentapi"
	"portpanel/db"
)

// sendRemote records c as applying (a new row, or the stored change
// moving from status from) and sends it to its host's agent as the
// host's desired state. If it cannot be sent, c is recorded as failed:
// nothing reached the host.
func (s *Service) sendRemote(ctx context.Context, c db.Change, from string) (db.Change, error) {
	c.Status = db.StatusApplying
	c.UpdatedAt = s.Now().UTC()
	c, err := s.record(ctx, c, from, db.AuditEvent{At: c.UpdatedAt, User: c.User, Action: "change.applying", Detail: detail(c)})
	if err != nil {
		return db.Change{}, fmt.Errorf("record change before sending it: %w", err)
	}
	dc, err := s.desiredOf(ctx, c)
	if err != nil {
		return s.fail(ctx, c, false, err)
	}
	gen, err := s.Fleet.SetDesired(ctx, c.Host, dc)
	if err != nil {
		return s.fail(ctx, c, false, fmt.Errorf("not sent to host %s, nothing was changed: %w", c.Host, err))
	}
	// Recorded after the send: a result can only be matched to the row
	// once the row knows its generation, and resultsFor also matches an
	// applying row that does not yet.
	c.Generation = gen
	stored, err := s.DB.Transition(ctx, []db.Transition{{From: db.StatusApplying, Change: c}}, nil, nil)
	if errors.Is(err, db.ErrConflict) {
		return s.DB.Change(ctx, c.ID) // the agent's result came first, and recorded it
	}
	if err != nil {
		return db.Change{}, fmt.Errorf("record generation %d of change %d: %w", gen, c.ID, err)
	}
	return stored[0], nil
}

// desiredOf is the desired change that makes the host apply c: set its
// keys, or roll back the generation of the change c rolls back.
func (s *Service) desiredOf(ctx context.Context, c db.Change) (agentapi.DesiredChange, error) {
	dc := agentapi.DesiredChange{ChangeID: c.ID, Reason: c.Reason, Author: c.User,
		ConfirmWithin: int(c.ConfirmWithin / time.Second), Acknowledge: c.Acknowledged}
	if c.RollbackOf == nil {
		dc.Operation, dc.Keys = agentapi.OpSet, desiredKeys(targetOf(c))
		return dc, nil
	}
	orig, err := s.DB.Change(ctx, *c.RollbackOf)
	if err != nil {
		return dc, fmt.Errorf("load change %d: %w", *c.RollbackOf, err)
	}
	if orig.Generation == 0 {
		return dc, fmt.Errorf("change #%d was never sent to host %s: there is nothing there to roll back", orig.ID, c.Host)
	}
	dc.Operation, dc.RollbackOf, dc.Acknowledge = agentapi.OpRollback, orig.Generation, nil
	return dc, nil
}

// refuseWhileBusy refuses a change of host while another change of it is
// on its way (applying) or awaits confirmation, except a rollback of that
// one (except): the agent acts on the current generation only, and a
// commit-confirmed revert would undo whatever came after it.
func (s *Service) refuseWhileBusy(ctx context.Context, host string, except int64) error {
	list, err := s.DB.HostChangesInFlight(ctx, host)
	if err != nil {
		return fmt.Errorf("load changes in flight on %s: %w", host, err)
	}
	for _, w := range list {
		switch {
		case w.ID == except:
		case w.Status == db.StatusApplying:
			return &ConflictError{fmt.Sprintf(
				"Change #%d is on its way to host %s: wait for its result before making another change there.", w.ID, host)}
		default:
			return &ConflictError{fmt.Sprintf(
				"Change #%d awaits confirmation on host %s until %s: confirm it or roll it back before making another change there.",
				w.ID, host, w.ConfirmBy.UTC().Format(time.TimeOnly+" MST"))}
		}
	}
	return nil
}

func (s *Service) remoteWait() time.Duration {
	if s.RemoteWait <= 0 {
		return DefaultRemoteWait
	}
	return s.RemoteWait
}

// applied reports whether remote change c has an outcome a request
// waiting for its apply can answer with.
func applied(c db.Change) bool { return c.Status != db.StatusApplying }

// confirmedOrGone reports whether a confirmation of c is settled.
func confirmedOrGone(c db.Change) bool {
	return c.Status != db.StatusApplied || c.ConfirmBy == nil
}

// awaitRemote waits until remote change id is done (RemoteWait at most,
// or until ctx ends) and returns it as it is then. The wait is woken by
// the agent's report (RecordRemoteResults) in this process, and reads
// the database now and then for reports another replica recorded. A
// failed change is returned as a FailedError, as a local one is.
func (s *Service) awaitRemote(ctx context.Context, id int64, done func(db.Change) bool) (db.Change, error) {
	timer := time.NewTimer(s.remoteWait())
	defer timer.Stop()
	for {
		woken := s.remoteState.waiter(id)
		c, err := s.DB.Change(ctx, id)
		if err != nil {
			s.remoteState.forget(id, woken)
			return db.Change{}, fmt.Errorf("load change %d: %w", id, err)
		}
		if done(c) || ctx.Err() != nil {
			s.remoteState.forget(id, woken)
			return remoteOutcome(c)
		}
		select {
		case <-woken:
		case <-time.After(250 * time.Millisecond):
			s.remoteState.forget(id, woken)
		case <-timer.C:
			s.remoteState.forget(id, woken)
			return remoteOutcome(c)
		case <-ctx.Done():
			s.remoteState.forget(id, woken)
		}
	}
}

// remoteOutcome is c as a request's answer: a failed change is an error.
func remoteOutcome(c db.Change) (db.Change, error) {
	if c.Status == db.StatusFailed {
		return c, &FailedError{Change: c, KernelRefused: true, Err: fmt.Errorf("host %s: %s", c.Host, c.Error)}
	}
	return c, nil
}

// waiter returns a channel closed when change id's row moves.
func (r *remoteState) waiter(id int64) chan struct{} {
	ch := make(chan struct{})
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.waiters == nil {
		r.waiters = map[int64][]chan struct{}{}
	}
	r.waiters[id] = append(r.waiters[id], ch)
	return ch
}

// forget drops a waiter nobody will read.
func (r *remoteState) forget(id int64, ch chan struct{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	list := slices.DeleteFunc(r.waiters[id], func(c chan struct{}) bool { return c == ch })
	if len(list) == 0 {
		delete(r.waiters, id)
		return
	}
	r.waiters[id] = list
}

// wake wakes every request waiting for change id.
func (r *remoteState) wake(id int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, ch := range r.waiters[id] {
		close(ch)
	}
	delete(r.waiters, id)
}
