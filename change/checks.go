package change

// The checks a new plan or a stored change (a proposal, a rollback) must
// pass against the state now, before anything is written.

import (
	"context"
	"fmt"
	"time"

	"portpanel/db"
	"portpanel/sysctl"
)

// staleRuntime is the refusal of a change based on a value the kernel no
// longer has.
func staleRuntime(base, now sysctl.Range) error {
	return &ConflictError{fmt.Sprintf(
		"The running range is now %d–%d, not the %d–%d this change was based on: someone changed it since. Start a new change from the current value.",
		now.Low, now.High, base.Low, base.High)}
}

// staleReserved is the refusal of a change based on reserved ports the
// kernel no longer has.
func staleReserved(base, now string) error {
	return &ConflictError{fmt.Sprintf(
		"The reserved ports are now %s, not the %s this change was based on: someone changed them since. Start a new change from the current value.",
		portsText(now), portsText(base))}
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
		if w.ID != except && w.Host == "" { // remote hosts: refuseWhileBusy
			return &ConflictError{fmt.Sprintf(
				"Change #%d awaits confirmation until %s: confirm it or roll it back before making another change.",
				w.ID, w.ConfirmBy.UTC().Format(time.TimeOnly+" MST"))}
		}
	}
	return nil
}

// checkStill refuses to apply a stored change (a proposal, a rollback)
// whose basis moved: the kernel no longer has its before value (of either
// key it sets), or the file is not the one it was planned on. It returns the kernel state for
// re-validation.
func (s *Service) checkStill(c db.Change) (sysctl.KernelState, error) {
	st, err := s.Kernel.Read()
	if err != nil {
		return sysctl.KernelState{}, fmt.Errorf("read kernel: %w", err)
	}
	if base := (sysctl.Range{Low: c.BeforeLow, High: c.BeforeHigh}); st.Range != base {
		return sysctl.KernelState{}, staleRuntime(base, st.Range)
	}
	if base := c.BeforeReservedPorts; base != nil && *base != st.ReservedPorts {
		return sysctl.KernelState{}, staleReserved(*base, st.ReservedPorts)
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
