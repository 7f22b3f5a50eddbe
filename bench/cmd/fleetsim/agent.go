package main

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"time"

	"portpanel/agentapi"
)

const version = "fleetsim"

// agent is one virtual host: the loop `portpanel agent` runs (long poll
// desired, act on the current generation only, report), over the real
// agent API with a real key, and an in-memory kernel.
type agent struct {
	sim  *sim
	name string
	key  ed25519.PrivateKey
	k    *kernel
	poll time.Duration

	gen int64 // the last generation acted on

	reportMu   sync.Mutex // one report at a time: a revert timer reports too
	mu         sync.Mutex // guards the fields below
	pending    []agentapi.Result
	lastReport time.Time
}

func (a *agent) sign(req *http.Request, body []byte) error {
	return agentapi.Sign(req, body, a.name, a.key, time.Now())
}

// enroll spends token for a's name and key.
func (a *agent) enroll(ctx context.Context, token string) error {
	in := agentapi.EnrollRequest{Token: token, Name: a.name, Version: version,
		PublicKey: agentapi.EncodePublicKey(a.key.Public().(ed25519.PublicKey))}
	var out agentapi.EnrollResponse
	if err := call(ctx, a.sim.agentClient, "POST", a.sim.agentBase+agentapi.PathEnroll, in, &out, nil, nil); err != nil {
		return fmt.Errorf("enroll %s: %w", a.name, err)
	}
	if out.PollSeconds > 0 && a.sim.o.followServer {
		a.poll = time.Duration(out.PollSeconds) * time.Second
	}
	return nil
}

// run is the agent's life after enrollment, until ctx ends.
func (a *agent) run(ctx context.Context) {
	backoff := time.Second
	for ctx.Err() == nil {
		a.mu.Lock()
		due := time.Since(a.lastReport) >= a.poll || len(a.pending) > 0
		a.mu.Unlock()
		if due {
			a.report(ctx)
		}
		start := time.Now()
		d, err := a.desired(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			a.sim.count(err)
			// A refusal never ends the agent (a 401 keeps key and state):
			// back off with jitter and try again, as the real one does.
			sleep(ctx, backoff/2+rand.N(backoff))
			backoff = min(2*backoff, 30*time.Second)
			continue
		}
		backoff = time.Second
		if !a.act(ctx, d) && time.Since(start) < time.Second {
			// Answered at once with nothing to do: do not spin.
			sleep(ctx, time.Second)
		}
	}
}

func (a *agent) desired(ctx context.Context) (agentapi.Desired, error) {
	wait := int(min(a.poll, agentapi.MaxWait) / time.Second)
	url := fmt.Sprintf("%s%s?after=%d&wait=%d", a.sim.agentBase, agentapi.PathDesired, a.gen, wait)
	var d agentapi.Desired
	a.sim.note(a.name, "poll after=%d", a.gen)
	err := call(ctx, a.sim.agentClient, "GET", url, nil, &d, nil, a.sign)
	a.sim.note(a.name, "poll answered: generation %d, change %v, %d previews, err %v", d.Generation, d.Change != nil, len(d.Previews), err)
	if err == nil {
		a.sim.polls.Add(1)
		a.sim.woke(a.name)
	}
	return d, err
}

// act does what d asks and reports at once when a result is new (a
// preview changes nothing, so it waits for the next report). It returns
// whether it did anything.
func (a *agent) act(ctx context.Context, d agentapi.Desired) bool {
	did, results := len(d.Previews) > 0, false
	for _, p := range d.Previews {
		res := a.k.preview(p)
		err := call(ctx, a.sim.agentClient, "POST", a.sim.agentBase+agentapi.PathPreview, res, nil, nil, a.sign)
		a.sim.note(a.name, "preview %s answered: err %v", p.ID, err)
		a.sim.count(err)
	}
	for _, g := range d.Confirm {
		if a.k.confirm(g) {
			a.addResult(agentapi.Result{Generation: g, State: agentapi.ResultConfirmed, At: time.Now()})
			did, results = true, true
		}
	}
	// The current generation only, once: an agent back from a long
	// absence applies what is wanted now, never the backlog.
	if d.Generation > a.gen {
		a.gen = d.Generation
		if d.Change != nil {
			res, err := a.k.apply(d.Generation, d.Change, a.reverted)
			if err != nil {
				res = agentapi.Result{Generation: d.Generation, State: agentapi.ResultFailed, Error: err.Error(), At: time.Now()}
			}
			a.addResult(res)
			did, results = true, true
		}
	}
	if results {
		a.report(ctx)
	}
	return did
}

func (a *agent) addResult(r agentapi.Result) {
	a.mu.Lock()
	a.pending = append(a.pending, r)
	a.mu.Unlock()
}

// reverted runs on a commit-confirmed timer: the control plane did not
// confirm in time, so the host went back on its own and says so.
func (a *agent) reverted(gen int64) {
	a.addResult(agentapi.Result{Generation: gen, State: agentapi.ResultReverted, At: time.Now()})
	a.sim.reverts.Add(1)
	a.report(a.sim.ctx)
}

// report sends what the host observes and the results not yet accepted.
func (a *agent) report(ctx context.Context) {
	a.reportMu.Lock()
	defer a.reportMu.Unlock()
	a.mu.Lock()
	sent := slices.Clone(a.pending)
	a.mu.Unlock()
	now := time.Now()
	r := agentapi.Report{At: now, Version: version, PollSeconds: int(a.poll / time.Second),
		Results: sent, Observed: a.k.observe(now)}
	err := call(ctx, a.sim.agentClient, "POST", a.sim.agentBase+agentapi.PathReport, r, nil, nil, a.sign)
	a.sim.note(a.name, "report of %d results: err %v", len(sent), err)
	a.sim.reported(a.name, time.Since(now), sent, err)
	if err != nil {
		return
	}
	a.mu.Lock()
	// Results added while this report was in flight stay pending.
	a.pending = slices.Delete(a.pending, 0, len(sent))
	a.lastReport = now
	a.mu.Unlock()
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
