package agent

import (
	"context"
	"errors"
	"fmt"
	"time"

	"portpanel/agentapi"
	"portpanel/db"
	"portpanel/sysctl"
)

// Risk thresholds of the usage summary, as serve's defaults: the share of
// capacity the busiest destination holds.
const (
	riskWarning  = 0.70
	riskCritical = 0.90
)

// reportSoon asks the reporter for a report now.
func (a *Agent) reportSoon() {
	select {
	case a.wake <- struct{}{}:
	default: // one is asked for already
	}
}

// reportLoop reports after every action (reportSoon) and at each poll
// interval: the control plane judges a host stale from the time of its
// last report.
func (a *Agent) reportLoop(ctx context.Context) {
	for {
		if err := a.Report(ctx); err != nil && ctx.Err() == nil {
			if errors.Is(err, ErrUnauthorized) {
				a.log.Error("the control plane refused this host's report (401): the key and state are kept", "host", a.client.host)
			} else {
				a.log.Warn("report", "err", err)
			}
		}
		t := time.NewTimer(a.pollInterval())
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-a.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// Report sends one report: what the host observes and the outcome of the
// generation acted on last, when it changed since the control plane last
// accepted it.
func (a *Agent) Report(ctx context.Context) error {
	obs, err := a.Observe(ctx)
	if err != nil {
		return err
	}
	a.mu.Lock()
	acted := a.acted
	a.mu.Unlock()
	r := agentapi.Report{At: time.Now().UTC(), Version: Version, PollSeconds: int(a.pollInterval().Seconds()),
		ObserveOnly: a.cfg.ObserveOnly, Observed: obs}
	res, ok, err := a.result(ctx, acted)
	if err != nil {
		return err
	}
	if ok && res.State != acted.Reported {
		r.Results = []agentapi.Result{res}
	}
	if err := a.client.Report(ctx, r); err != nil {
		return err
	}
	if len(r.Results) == 0 {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.acted.Generation != acted.Generation {
		return nil // a newer generation came meanwhile; its own report follows
	}
	a.acted.Reported = res.State
	return a.state.SaveActed(a.acted)
}

// result is what became of acted's generation, read from the journal;
// ok is false when there is nothing to say (no change was asked for).
func (a *Agent) result(ctx context.Context, acted Acted) (agentapi.Result, bool, error) {
	r := agentapi.Result{Generation: acted.Generation, State: acted.State, Error: acted.Error, At: acted.At}
	if acted.ChangeID == 0 {
		return r, acted.State != "", nil
	}
	c, err := a.db.Change(ctx, acted.ChangeID)
	if err != nil {
		return r, false, fmt.Errorf("load change %d of generation %d: %w", acted.ChangeID, acted.Generation, err)
	}
	r.At = c.UpdatedAt
	switch c.Status {
	case db.StatusApplied:
		switch {
		case c.ConfirmBy != nil:
			r.State, r.Deadline = agentapi.ResultUnconfirmed, *c.ConfirmBy
		case c.ConfirmWithin > 0:
			// Its deadline was dropped because the revert failed.
			r.State, r.Error = agentapi.ResultFailed, fmt.Sprintf(
				"the automatic revert failed, so %d %d stays in force: roll it back by hand (the host's journal has the reason)", c.Low, c.High)
		default:
			r.State = agentapi.ResultApplied
		}
	case db.StatusConfirmed:
		r.State = agentapi.ResultConfirmed
	case db.StatusReverted:
		r.State = agentapi.ResultReverted
	case db.StatusFailed:
		r.State, r.Error = agentapi.ResultFailed, c.Error
	default:
		return r, false, nil
	}
	return r, true, nil
}

// Observe reads what the host has now: what the dashboard shows for the
// local host.
func (a *Agent) Observe(ctx context.Context) (agentapi.Observed, error) {
	st, err := a.svc.Status(ctx)
	if err != nil {
		return agentapi.Observed{}, err
	}
	b := st.Boot.Boot
	o := agentapi.Observed{
		Runtime: apiRange(st.Kernel.Range),
		Boot: agentapi.Boot{Range: apiRange(st.BootRange), Set: st.BootSet, Reader: string(st.Boot.Reader),
			Uncertain: b.Uncertain},
		ReservedPorts: st.Kernel.ReservedPorts, BootReservedPorts: st.BootReserved,
		UnprivilegedPortStart: st.Kernel.UnprivilegedPortStart,
		Drift:                 st.Drift || st.ReservedDrift, Warnings: st.Warnings, File: st.File,
	}
	if st.BootSet {
		o.Boot.File, o.Boot.Line = b.Where.File, b.Where.Line
	}
	for _, r := range b.Refused {
		o.Boot.Refused = append(o.Boot.Refused, fmt.Sprintf("%s:%d: %s (%s)", r.Where.File, r.Where.Line, r.Value, r.Reason))
	}
	if snap, ok := a.svc.LatestUsage(); ok {
		u := &agentapi.Usage{At: snap.At, ByState: map[string]int{}, Risk: "ok"}
		for state, n := range snap.TCP {
			u.ByState[state] += n
			u.Total += n
		}
		if snap.UDP > 0 {
			u.ByState["UDP"] = snap.UDP
			u.Total += snap.UDP
		}
		if d := snap.Busiest; d != nil {
			u.Busiest = &agentapi.Destination{Address: d.Remote.String(), Count: d.Sockets}
			switch {
			case d.Risk >= riskCritical:
				u.Risk = "critical"
			case d.Risk >= riskWarning:
				u.Risk = "warning"
			}
			u.RiskNote = fmt.Sprintf("%s holds %d of the %d ports it may use (%.0f%%)", d.Remote, d.Sockets, snap.Capacity, d.Risk*100)
		}
		o.Usage = u
	}
	listeners := a.svc.Collisions(st.Kernel.Range, st.Kernel.ReservedPorts)
	if n := len(listeners); n > maxListeners {
		// A report over agentapi.MaxBodyBytes is refused whole, and the
		// host would go stale: the first ones, and how many more.
		o.Warnings = append(o.Warnings, fmt.Sprintf("%d listening ports are inside the range; the report lists the first %d.", n, maxListeners))
		listeners = listeners[:maxListeners]
	}
	for _, c := range listeners {
		o.Listeners = append(o.Listeners, agentapi.Listener{Port: c.Port, Proto: c.Proto, Process: c.Process})
	}
	return o, nil
}

// maxListeners bounds the listeners a report lists, so a host with
// thousands in its range still fits agentapi.MaxBodyBytes.
const maxListeners = 1000

func apiRange(r sysctl.Range) agentapi.Range { return agentapi.Range{Low: r.Low, High: r.High} }
