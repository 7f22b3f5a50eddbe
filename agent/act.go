package agent

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"portpanel/agentapi"
	"portpanel/change"
	"portpanel/db"
)

// ControlPlane names the control plane in the journal's audit log.
const ControlPlane = "control plane"

// handle acts on one answer of the long poll and reports whether it did
// anything.
func (a *Agent) handle(ctx context.Context, d agentapi.Desired) bool {
	if d.PollSeconds > 0 {
		a.setPoll(d.PollSeconds)
	}
	did := a.answerPreviews(ctx, d.Previews)
	// An apply or a confirmation that has begun finishes, and is
	// recorded, even when SIGTERM comes meanwhile: its steps are short.
	ctx = context.WithoutCancel(ctx)
	for _, g := range d.Confirm {
		if a.confirm(ctx, g) {
			did = true
		}
	}
	a.mu.Lock()
	acted := a.acted.Generation
	a.mu.Unlock()
	if d.Generation < acted {
		// Generations only grow: this control plane's store is not the
		// one this host acted on (restored, replaced). Nothing is done
		// until it passes what this host has seen.
		a.log.Warn("the control plane's generation is behind the last one this host acted on", "generation", d.Generation, "acted", acted)
	}
	// Only the current generation: after being away the agent applies
	// what is wanted now, never the ones it missed.
	if d.Generation > acted {
		a.act(ctx, d.Generation, d.Change)
		did = true
	}
	return did
}

// act works out generation gen, records it as acted on and reports.
func (a *Agent) act(ctx context.Context, gen int64, dc *agentapi.DesiredChange) {
	out := a.outcome(ctx, gen, dc)
	out.At = time.Now().UTC()
	if err := a.state.SaveActed(out); err != nil {
		// Not fatal: the journal knows the generation, so acting on it
		// again after a restart does not apply it twice.
		a.log.Error("record the generation acted on", "generation", gen, "err", err)
	}
	a.mu.Lock()
	a.acted = out
	a.mu.Unlock()
	a.log.Info("acted on a generation", "generation", gen, "change", out.ChangeID, "state", out.State, "error", out.Error)
	a.reportSoon()
}

// outcome applies gen's change, or refuses it, or finds in the journal
// that it was applied before a crash.
func (a *Agent) outcome(ctx context.Context, gen int64, dc *agentapi.DesiredChange) Acted {
	if dc == nil {
		return Acted{Generation: gen}
	}
	refused := func(err error) Acted {
		return Acted{Generation: gen, State: agentapi.ResultFailed, Error: err.Error()}
	}
	if err := checkOperation(*dc); err != nil {
		return refused(err)
	}
	if a.cfg.ObserveOnly {
		return refused(errors.New("refused: this agent runs with --observe-only, set on the host, and changes nothing"))
	}
	prior, err := changesFor(ctx, a.db, gen)
	if err != nil {
		return refused(err)
	}
	// A crash after the journal recorded the change: recovery finished
	// it or put everything back. Finished stays finished; put back is
	// applied again, as the control plane still wants it.
	if len(prior) > 0 && (!interrupted(prior[0]) || len(prior) >= maxAttempts) {
		return Acted{Generation: gen, ChangeID: prior[0].ID}
	}
	c, err := a.apply(ctx, gen, *dc)
	if c.ID != 0 {
		return Acted{Generation: gen, ChangeID: c.ID}
	}
	return refused(err)
}

// checkOperation refuses anything but the typed operation: set the range
// and/or the reserved ports, or roll back a generation.
func checkOperation(dc agentapi.DesiredChange) error {
	switch dc.Operation {
	case agentapi.OpSet:
		if len(dc.Keys) == 0 || dc.RollbackOf != 0 {
			return errors.New("refused: a set names the keys to set, and nothing to roll back")
		}
		for k := range dc.Keys {
			if k != agentapi.KeyRange && k != agentapi.KeyReserved {
				return fmt.Errorf("refused: this agent sets only %s and %s, not %q", agentapi.KeyRange, agentapi.KeyReserved, k)
			}
		}
	case agentapi.OpRollback:
		if dc.RollbackOf <= 0 || len(dc.Keys) != 0 {
			return errors.New("refused: a rollback names the generation it rolls back, and no keys")
		}
	default:
		return fmt.Errorf("refused: %q is not an operation this agent accepts (set, rollback)", dc.Operation)
	}
	return nil
}

// apply runs dc through the local change.Service. The actor's id is the
// generation (journal.go).
func (a *Agent) apply(ctx context.Context, gen int64, dc agentapi.DesiredChange) (db.Change, error) {
	actor := change.Actor{ID: gen, Name: ControlPlane}
	if dc.Author != "" {
		actor.Name = dc.Author + " via " + ControlPlane
	}
	reason := dc.Reason
	if strings.TrimSpace(reason) == "" {
		reason = fmt.Sprintf("generation %d from the %s", gen, ControlPlane)
	}
	var (
		c   db.Change
		err error
	)
	if dc.Operation == agentapi.OpRollback {
		orig, ferr := a.appliedFor(ctx, dc.RollbackOf)
		if ferr != nil {
			return db.Change{}, ferr
		}
		c, err = a.svc.Rollback(ctx, orig.ID, reason, actor)
	} else {
		req, rerr := a.request(dc)
		if rerr != nil {
			return db.Change{}, rerr
		}
		req.Reason, req.Actor = reason, actor
		c, err = a.svc.Apply(ctx, req)
	}
	var failed *change.FailedError
	if errors.As(err, &failed) {
		return failed.Change, err
	}
	if err != nil {
		return db.Change{}, err
	}
	return c, nil
}

// request turns dc's keys into a change request; its values are checked
// by the pipeline like any other request's.
func (a *Agent) request(dc agentapi.DesiredChange) (change.Request, error) {
	req := change.Request{ConfirmWithin: time.Duration(dc.ConfirmWithin) * time.Second, Acknowledge: dc.Acknowledge}
	if v, ok := dc.Keys[agentapi.KeyReserved]; ok {
		req.ReservedPorts = &v
	}
	v, ok := dc.Keys[agentapi.KeyRange]
	if !ok {
		// Only the reserved ports: the range stays what the kernel has.
		r, err := a.svc.Kernel.ReadRange()
		if err != nil {
			return change.Request{}, fmt.Errorf("read kernel: %w", err)
		}
		req.Low, req.High = r.Low, r.High
		return req, nil
	}
	f := strings.Fields(v)
	var lerr, herr error
	if len(f) == 2 {
		req.Low, lerr = strconv.Atoi(f[0])
		req.High, herr = strconv.Atoi(f[1])
	}
	if len(f) != 2 || lerr != nil || herr != nil {
		return change.Request{}, fmt.Errorf("refused: %s %q is not two port numbers, LOW HIGH", agentapi.KeyRange, v)
	}
	return req, nil
}

// appliedFor is the change generation gen applied here and that still
// holds, for a rollback.
func (a *Agent) appliedFor(ctx context.Context, gen int64) (db.Change, error) {
	list, err := changesFor(ctx, a.db, gen)
	if err != nil {
		return db.Change{}, err
	}
	for _, c := range list {
		if c.Status == db.StatusApplied || c.Status == db.StatusConfirmed {
			return c, nil
		}
	}
	return db.Change{}, fmt.Errorf("refused: generation %d applied nothing on this host that could be rolled back", gen)
}

// confirm keeps the commit-confirmed change of generation gen; it reports
// whether there was one to keep.
func (a *Agent) confirm(ctx context.Context, gen int64) bool {
	list, err := changesFor(ctx, a.db, gen)
	if err != nil {
		a.log.Error("confirm", "generation", gen, "err", err)
		return false
	}
	for _, c := range list {
		if c.Status != db.StatusApplied || c.ConfirmBy == nil {
			continue
		}
		if _, err := a.svc.Confirm(ctx, c.ID, change.Actor{Name: ControlPlane}); err != nil {
			a.log.Error("confirm", "generation", gen, "change", c.ID, "err", err)
			return false
		}
		a.log.Info("confirmed", "generation", gen, "change", c.ID)
		a.reportSoon()
		return true
	}
	return false
}
