package web_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"portpanel/agentapi"
	"portpanel/change"
	"portpanel/fleet"
)

// simAgent plays a host's agent against the real fleet service, in
// process: it long-polls, answers previews with the diff it would
// write, "applies" a desired change to its pretend kernel and reports
// the result, holds commit-confirmed deadlines and honours Desired.Confirm.
// The agent itself (package agent) has its own tests; this one lets the
// control plane's handlers be tested over the real fleet and database.
type simAgent struct {
	t  *testing.T
	fl *fleet.Service
	a  fleet.Agent

	mu      sync.Mutex
	runtime agentapi.Range
	refuse  string // a change refused with this reason, when set
	// applied maps a generation to the range it replaced, for rollbacks.
	applied     map[int64]agentapi.Range
	unconfirmed int64
}

const simFile = "/etc/sysctl.d/60-portpanel.conf"

// withFleet gives e a real fleet service and a host "web-1" run by a
// simulated agent, wired as serve wires them.
func (e *env) withFleet(t *testing.T) *simAgent {
	t.Helper()
	fl := &fleet.Service{DB: e.h.DB}
	e.h.Changes.Fleet = change.FleetService{Fleet: fl}
	e.h.Changes.RemoteWait = 5 * time.Second
	fl.Results = e.h.Changes.RecordRemoteResults
	s := simHost(t, fl, "web-1")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return s
}

// simHost enrolls host name with fl and reports its state once; its
// agent does nothing more until run.
func simHost(t *testing.T, fl *fleet.Service, name string) *simAgent {
	t.Helper()
	ctx := context.Background()
	token, _, err := fl.CreateEnrollment(ctx, "admin", "web", 0)
	if err != nil {
		t.Fatal(err)
	}
	pub, key, _ := agentapi.GenerateKey()
	if _, err := fl.Enroll(ctx, agentapi.EnrollRequest{Token: token, Name: name, PublicKey: agentapi.EncodePublicKey(pub)}, "test"); err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("GET", agentapi.PathDesired, nil)
	if err := agentapi.Sign(req, nil, name, key, time.Now()); err != nil {
		t.Fatal(err)
	}
	a, err := fl.Authenticate(ctx, req, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := &simAgent{t: t, fl: fl, a: a, runtime: agentapi.Range{Low: 32768, High: 60999}, applied: map[int64]agentapi.Range{}}
	s.report(ctx, nil)
	return s
}

func (s *simAgent) run(ctx context.Context) {
	var after int64
	for ctx.Err() == nil {
		d, err := s.fl.Desired(ctx, s.a, after, 2*time.Second)
		if err != nil {
			continue
		}
		for _, p := range d.Previews {
			s.mu.Lock()
			res := agentapi.PreviewResult{ID: p.ID, File: simFile, Diff: "+net.ipv4.ip_local_port_range = " + p.Keys[agentapi.KeyRange] + "\n"}
			s.mu.Unlock()
			if err := s.fl.AnswerPreview(ctx, s.a, res); err != nil && ctx.Err() == nil {
				s.t.Errorf("answer preview: %v", err)
			}
		}
		for _, g := range d.Confirm {
			s.mu.Lock()
			was := s.unconfirmed
			s.unconfirmed = 0
			s.mu.Unlock()
			if g == was {
				s.report(ctx, &agentapi.Result{Generation: g, State: agentapi.ResultConfirmed, At: time.Now()})
			}
		}
		if d.Generation > after {
			after = d.Generation
			if d.Change != nil {
				s.report(ctx, s.apply(after, *d.Change))
			}
		}
	}
}

// apply is what the agent's pipeline would make of dc.
func (s *simAgent) apply(gen int64, dc agentapi.DesiredChange) *agentapi.Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := &agentapi.Result{Generation: gen, State: agentapi.ResultApplied, At: time.Now()}
	if s.refuse != "" {
		r.State, r.Error = agentapi.ResultFailed, s.refuse
		return r
	}
	before := s.runtime
	switch dc.Operation {
	case agentapi.OpRollback:
		s.runtime = s.applied[dc.RollbackOf]
	default:
		var low, high int
		if _, err := fmt.Sscan(dc.Keys[agentapi.KeyRange], &low, &high); err != nil {
			r.State, r.Error = agentapi.ResultFailed, err.Error()
			return r
		}
		s.runtime = agentapi.Range{Low: low, High: high}
	}
	s.applied[gen] = before
	if dc.ConfirmWithin > 0 {
		r.State, r.Deadline = agentapi.ResultUnconfirmed, time.Now().Add(time.Duration(dc.ConfirmWithin)*time.Second)
		s.unconfirmed = gen
	}
	return r
}

func (s *simAgent) report(ctx context.Context, r *agentapi.Result) {
	s.mu.Lock()
	rep := agentapi.Report{At: time.Now(), Version: "sim", PollSeconds: 30, Observed: agentapi.Observed{
		Runtime: s.runtime, UnprivilegedPortStart: 1024, File: simFile}}
	s.mu.Unlock()
	if r != nil {
		rep.Results = []agentapi.Result{*r}
	}
	for { // the report limit allows a burst; wait for a token rather than lose a result
		_, err := s.fl.RecordReport(ctx, s.a, rep)
		if err == nil || ctx.Err() != nil {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// set changes what the host's kernel has, as if someone changed it there.
func (s *simAgent) set(r agentapi.Range) {
	s.mu.Lock()
	s.runtime = r
	s.mu.Unlock()
	s.report(context.Background(), nil)
}
