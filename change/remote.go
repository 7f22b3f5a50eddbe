package change

// Changes on a remote host (issue 19 point 5). The control plane never
// writes a host's kernel or file: it records the change in the same table,
// through the same gate (reason, approval by another person, hazards
// acknowledged, stale edits refused), and hands it to the host's agent as
// its desired state. The agent applies it through its own Service and
// reports; the row follows that report (remote_results.go). The checks
// that need the host's kernel, file and sockets (the diff, the hazards)
// are the agent's, asked for by a preview.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"portpanel/agentapi"
	"portpanel/db"
	"portpanel/fleet"
	"portpanel/sysctl"
)

// Fleet is what a remote change needs of the control plane's fleet: the
// host as it last reported, its desired state, and its agent's previews.
// Package fleet provides it; change never reaches a host any other way.
type Fleet interface {
	// RemoteHost is host name as the control plane knows it, or an error
	// wrapping db.ErrNotFound.
	RemoteHost(ctx context.Context, name string) (RemoteHost, error)
	// SetDesired makes dc the host's desired change at a new generation,
	// wakes its agent's long poll and returns the generation.
	SetDesired(ctx context.Context, host string, dc agentapi.DesiredChange) (int64, error)
	// RequestPreview asks the host's agent what setting keys would do and
	// waits for its answer, a bounded time; an error means no answer.
	RequestPreview(ctx context.Context, host string, keys map[string]string) (agentapi.PreviewResult, error)
	// Confirm sends the confirmation of generation's commit-confirmed
	// change to the agent (Desired.Confirm) and wakes it.
	Confirm(ctx context.Context, host string, generation int64) error
}

// RemoteHost is an enrolled host as far as a change is concerned.
type RemoteHost struct {
	Name        string
	Revoked     bool
	ObserveOnly bool
	// Reported is false until the host's first report: then Observed is
	// unknown, and nothing can be planned against it.
	Reported bool
	Observed agentapi.Observed
	// Generation is the host's desired-state generation now.
	Generation int64
}

// DefaultRemoteWait is how long a request waits for an agent's preview,
// or for its result of a remote change, when Service.RemoteWait is not
// set. An agent long-polling is woken at once, so the answer takes about
// a round trip; the bound is for an agent that is away, and stays under
// the terminal client's default 30 s timeout so that it hears why.
const DefaultRemoteWait = 25 * time.Second

// NoAnswerError says a host's agent did not answer in time: nothing was
// changed.
type NoAnswerError struct {
	Host string
	Err  error
}

func (e *NoAnswerError) Error() string {
	return fmt.Sprintf("Host %s did not answer in time (%v), so nothing was changed: is its agent running? Try again.", e.Host, e.Err)
}

func (e *NoAnswerError) Unwrap() error { return e.Err }

// remoteState serialises planning per host (the preview's wait is not
// held against other hosts) and wakes requests waiting for a result.
type remoteState struct {
	mu      sync.Mutex
	hosts   map[string]*sync.Mutex
	waiters map[int64][]chan struct{}
}

// lock takes host's planning lock and returns its release.
func (r *remoteState) lock(host string) func() {
	r.mu.Lock()
	if r.hosts == nil {
		r.hosts = map[string]*sync.Mutex{}
	}
	m := r.hosts[host]
	if m == nil {
		m = &sync.Mutex{}
		r.hosts[host] = m
	}
	r.mu.Unlock()
	m.Lock()
	return m.Unlock
}

// isLocal reports whether host is this panel's own: its changes are
// applied here, by this Service, never sent as a desired generation (its
// in-process agent only reports), so no change reaches the kernel twice.
func (s *Service) isLocal(host string) bool { return host != "" && host == s.LocalHost }

// localEnrolled refuses a change by name to the local host once an admin
// revoked it, as any revoked host's: the name is the fleet's, and the
// dashboard's own page still changes the machine.
func (s *Service) localEnrolled(ctx context.Context, host string) error {
	f, err := s.remote()
	if err != nil {
		return err
	}
	h, err := f.RemoteHost(ctx, host)
	if err != nil {
		return fmt.Errorf("load host %s: %w", host, err)
	}
	if h.Revoked {
		return &ConflictError{fmt.Sprintf("Host %s is revoked: it takes no changes by name until it enrolls again (it is this panel's own machine: its dashboard still changes it).", host)}
	}
	return nil
}

// remote returns the fleet, or says that this panel has none.
func (s *Service) remote() (Fleet, error) {
	if s.Fleet == nil {
		return nil, &ConflictError{"This panel manages no other hosts: there is no fleet to send the change to."}
	}
	return s.Fleet, nil
}

// remoteHost loads host and refuses one that cannot take a change.
func (s *Service) remoteHost(ctx context.Context, host string) (RemoteHost, error) {
	f, err := s.remote()
	if err != nil {
		return RemoteHost{}, err
	}
	h, err := f.RemoteHost(ctx, host)
	switch {
	case err != nil:
		return RemoteHost{}, fmt.Errorf("load host %s: %w", host, err)
	case h.Revoked:
		return RemoteHost{}, &ConflictError{fmt.Sprintf("Host %s is revoked: it takes no changes until it enrolls again.", host)}
	case h.ObserveOnly:
		return RemoteHost{}, &ConflictError{fmt.Sprintf("Host %s runs its agent with --observe-only, set on the host: it refuses every change.", host)}
	case !h.Reported:
		return RemoteHost{}, &ConflictError{fmt.Sprintf("Host %s has not reported yet: its range is unknown, so no change can be planned against it.", host)}
	}
	return h, nil
}

// observedState is the host's kernel as its agent last reported it.
func observedState(o agentapi.Observed) sysctl.KernelState {
	return sysctl.KernelState{Range: sysctl.Range{Low: o.Runtime.Low, High: o.Runtime.High},
		UnprivilegedPortStart: o.UnprivilegedPortStart, ReservedPorts: o.ReservedPorts}
}

// PreviewRemote is Preview for host: checked against what its agent last
// reported, with the diff and hazards its agent computes. It changes
// nothing, and says so when the agent does not answer in time.
func (s *Service) PreviewRemote(ctx context.Context, host string, req Request) (Preview, error) {
	if s.isLocal(host) {
		if err := s.localEnrolled(ctx, host); err != nil {
			return Preview{}, err
		}
		pv, err := s.Preview(ctx, req)
		pv.Host = host
		return pv, err
	}
	defer s.remoteState.lock(host)()
	c, st, err := s.planRemote(ctx, host, req)
	if err != nil {
		return Preview{}, err
	}
	return Preview{
		Before: sysctl.Range{Low: c.BeforeLow, High: c.BeforeHigh}, Target: sysctl.Range{Low: c.Low, High: c.High},
		BeforeReserved: st.ReservedPorts, TargetReserved: c.ReservedPorts, Warnings: c.Warnings, Notes: c.Notes,
		File: c.File, Diff: c.Diff, FileState: c.BaseFileHash, RequiresApproval: s.RequireApproval,
		Hazards: c.Hazards, Host: host, Generation: c.BaseGeneration,
	}, nil
}

// ApplyRemote is Apply for host: the same checks and gate, then the
// change is sent to the host's agent and the request waits (RemoteWait
// at most) for its result. A change still applying when the wait ends is
// returned as applying; its row follows the agent's report later.
func (s *Service) ApplyRemote(ctx context.Context, host string, req Request) (db.Change, error) {
	if s.isLocal(host) {
		if err := s.localEnrolled(ctx, host); err != nil {
			return db.Change{}, err
		}
		return s.Apply(ctx, req)
	}
	unlock := s.remoteState.lock(host)
	c, _, err := s.planRemote(ctx, host, req)
	if err == nil {
		c.Acknowledged, err = acknowledge(c.Hazards, req.Acknowledge)
	}
	if err != nil {
		unlock()
		return db.Change{}, err
	}
	if s.RequireApproval {
		defer unlock()
		return s.propose(ctx, plan{change: c})
	}
	sent, err := s.sendRemote(ctx, c, "")
	unlock()
	if err != nil {
		return sent, err
	}
	return s.awaitRemote(ctx, sent.ID, applied)
}

// planRemote validates req for host and works out the change, asking the
// host's agent for the diff and the hazards. It returns the host's state
// the change was planned against.
func (s *Service) planRemote(ctx context.Context, host string, req Request) (db.Change, sysctl.KernelState, error) {
	reason, err := CheckReason(req.Reason)
	if err == nil {
		err = CheckConfirmWithin(req.ConfirmWithin)
	}
	if err == nil {
		err = checkAcknowledge(req.Acknowledge)
	}
	if err != nil {
		return db.Change{}, sysctl.KernelState{}, err
	}
	h, err := s.remoteHost(ctx, host)
	if err != nil {
		return db.Change{}, sysctl.KernelState{}, err
	}
	st := observedState(h.Observed)
	target := sysctl.Target{Range: sysctl.Range{Low: req.Low, High: req.High}}
	if err := checkBase(req, st, h); err != nil {
		return db.Change{}, st, err
	}
	if req.ReservedPorts != nil {
		list, err := sysctl.CheckReservedPorts(*req.ReservedPorts)
		if err != nil {
			return db.Change{}, st, err
		}
		target.Reserved = &list
	}
	warnings, err := sysctl.Validate(target.Range, afterState(st, target.Reserved))
	if err != nil {
		return db.Change{}, st, err
	}
	if err := s.refuseWhileBusy(ctx, host, 0); err != nil {
		return db.Change{}, st, err
	}
	pv, err := s.askPreview(ctx, host, desiredKeys(target))
	if err != nil {
		return db.Change{}, st, err
	}
	now := s.Now().UTC()
	c := db.Change{
		Host: host, BaseGeneration: h.Generation,
		Low: target.Range.Low, High: target.Range.High, BeforeLow: st.Range.Low, BeforeHigh: st.Range.High,
		Reason: reason, UserID: req.Actor.ID, User: req.Actor.Name, CreatedAt: now, UpdatedAt: now,
		File: pv.File, Diff: pv.Diff, Warnings: append(warnings, pv.Warnings...), ConfirmWithin: req.ConfirmWithin,
		BaseFileHash: previewState(pv), Hazards: hazardsOf(pv.Hazards),
	}
	if target.Reserved != nil {
		before := st.ReservedPorts
		c.ReservedPorts, c.BeforeReservedPorts = target.Reserved, &before
	}
	if req.BaseFile != "" && req.BaseFile != c.BaseFileHash {
		return db.Change{}, st, &ConflictError{fmt.Sprintf(
			"%s on %s changed since you reviewed this change (the diff its agent computes is not the one you saw): review the change again.", pv.File, host)}
	}
	if target.Range == st.Range && pv.Diff == "" && (target.Reserved == nil || *target.Reserved == st.ReservedPorts) {
		return db.Change{}, st, &InvalidError{Field: "value", Message: fmt.Sprintf(
			"%s is already the running value on %s and the value in %s: there is nothing to change.", targetText(target), host, pv.File)}
	}
	return c, st, nil
}

// checkBase refuses a request based on another state of the host than
// the one it reports now: its range, its reserved ports, or its desired
// state (someone sent it a change meanwhile).
func checkBase(req Request, st sysctl.KernelState, h RemoteHost) error {
	if req.Base != nil && *req.Base != st.Range {
		return staleRuntime(*req.Base, st.Range)
	}
	if req.BaseReserved != nil && *req.BaseReserved != st.ReservedPorts {
		return staleReserved(*req.BaseReserved, st.ReservedPorts)
	}
	if req.BaseGeneration != nil && *req.BaseGeneration != h.Generation {
		return staleGeneration(h.Name, *req.BaseGeneration, h.Generation)
	}
	return nil
}

func staleGeneration(host string, base, now int64) error {
	return &ConflictError{fmt.Sprintf(
		"Host %s's desired state is at generation %d, not the %d this change was based on: someone sent it a change since. Start a new change from its current state.",
		host, now, base)}
}

// askPreview asks host's agent for a preview of keys and refuses what it
// refuses.
func (s *Service) askPreview(ctx context.Context, host string, keys map[string]string) (agentapi.PreviewResult, error) {
	ctx, cancel := context.WithTimeout(ctx, s.remoteWait())
	defer cancel()
	pv, err := s.Fleet.RequestPreview(ctx, host, keys)
	switch {
	case errors.Is(err, fleet.ErrNoAnswer) || errors.Is(err, context.DeadlineExceeded):
		return pv, &NoAnswerError{Host: host, Err: err}
	case err != nil:
		return pv, fmt.Errorf("preview on host %s: %w", host, err)
	case pv.Error != "":
		return pv, &InvalidError{Field: "value", Message: fmt.Sprintf("Host %s refuses this change: %s", host, pv.Error)}
	case pv.Uneditable != "":
		return pv, &InvalidError{Field: "file", Message: fmt.Sprintf(
			"%s on %s cannot be edited, so nothing was changed: %s", pv.File, host, pv.Uneditable)}
	}
	return pv, nil
}

// previewState stands for the file a remote preview showed: its path and
// the diff the agent would write (the control plane never sees the file
// itself). Sent back as Request.BaseFile, it makes the change refused
// when the agent would now write another diff.
func previewState(pv agentapi.PreviewResult) string {
	sum := sha256.Sum256([]byte(pv.File + "\x00" + pv.Diff))
	return "preview:" + hex.EncodeToString(sum[:])
}

// desiredKeys are the keys and values the agent is asked to set.
func desiredKeys(t sysctl.Target) map[string]string {
	keys := map[string]string{agentapi.KeyRange: t.Range.String()}
	if t.Reserved != nil {
		keys[agentapi.KeyReserved] = *t.Reserved
	}
	return keys
}

func hazardsOf(hs []agentapi.Hazard) []db.Hazard {
	var out []db.Hazard
	for _, h := range hs {
		out = append(out, db.Hazard{Code: h.Code, Message: h.Message})
	}
	return out
}
