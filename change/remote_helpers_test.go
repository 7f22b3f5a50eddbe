package change_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"portpanel/agentapi"
	"portpanel/change"
	"portpanel/db"
	"portpanel/db/dbtest"
)

// fakeFleet is the fleet as a remote change sees it, with one host
// ("web-1") whose agent the test plays: it answers previews with
// preview, and answer, when set, reports the result of each generation
// sent (as an agent does after applying), from another goroutine.
type fakeFleet struct {
	t       *testing.T
	mu      sync.Mutex
	host    change.RemoteHost
	preview func(keys map[string]string) (agentapi.PreviewResult, error)
	answer  func(gen int64, dc agentapi.DesiredChange) []agentapi.Result
	svc     *change.Service

	sent     []agentapi.DesiredChange
	previews int
	confirms []int64
}

const testHost = "web-1"

func newFakeFleet(t *testing.T) *fakeFleet {
	return &fakeFleet{t: t, host: change.RemoteHost{Name: testHost, Reported: true, Generation: 3,
		Observed: agentapi.Observed{Runtime: agentapi.Range{Low: 32768, High: 60999}, UnprivilegedPortStart: 1024,
			File: "/etc/sysctl.d/60-portpanel.conf"}}}
}

func (f *fakeFleet) RemoteHost(_ context.Context, name string) (change.RemoteHost, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if name != f.host.Name {
		return change.RemoteHost{}, fmt.Errorf("host %s: %w", name, db.ErrNotFound)
	}
	return f.host, nil
}

func (f *fakeFleet) SetDesired(_ context.Context, host string, dc agentapi.DesiredChange) (int64, error) {
	f.mu.Lock()
	f.host.Generation++
	gen := f.host.Generation
	f.sent = append(f.sent, dc)
	answer := f.answer
	f.mu.Unlock()
	if answer != nil {
		go func() {
			time.Sleep(20 * time.Millisecond) // after sendRemote recorded the generation, usually
			if err := f.svc.RecordRemoteResults(context.Background(), host, answer(gen, dc)); err != nil {
				f.t.Errorf("record results: %v", err)
			}
		}()
	}
	return gen, nil
}

func (f *fakeFleet) RequestPreview(_ context.Context, _ string, keys map[string]string) (agentapi.PreviewResult, error) {
	f.mu.Lock()
	f.previews++
	p := f.preview
	f.mu.Unlock()
	if p == nil {
		return agentapi.PreviewResult{File: f.host.Observed.File,
			Diff: "--- a\n+++ b\n+net.ipv4.ip_local_port_range = " + keys[agentapi.KeyRange] + "\n"}, nil
	}
	return p(keys)
}

func (f *fakeFleet) Confirm(_ context.Context, _ string, gen int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.confirms = append(f.confirms, gen)
	return nil
}

// lastSent is the desired change sent last.
func (f *fakeFleet) lastSent(t *testing.T) agentapi.DesiredChange {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.sent) == 0 {
		t.Fatal("nothing was sent to the host")
	}
	return f.sent[len(f.sent)-1]
}

func (f *fakeFleet) sentCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.sent)
}

// answerWith makes the agent report state for every generation sent.
func answerWith(state, reason string) func(int64, agentapi.DesiredChange) []agentapi.Result {
	return func(gen int64, dc agentapi.DesiredChange) []agentapi.Result {
		r := agentapi.Result{Generation: gen, State: state, Error: reason, At: time.Now()}
		if state == agentapi.ResultUnconfirmed {
			r.Deadline = time.Now().Add(time.Duration(dc.ConfirmWithin) * time.Second).Truncate(time.Millisecond)
		}
		return []agentapi.Result{r}
	}
}

// remoteService is a control plane's Service over a fresh database with
// f as its fleet.
func remoteService(t *testing.T, f *fakeFleet, requireApproval bool) *change.Service {
	t.Helper()
	svc := &change.Service{DB: dbtest.Open(t), Now: time.Now, Fleet: f, RemoteWait: 3 * time.Second,
		RequireApproval: requireApproval}
	f.svc = svc
	return svc
}

// remoteRequest is a valid request for the test host.
func remoteRequest(actor change.Actor) change.Request {
	return change.Request{Low: 20000, High: 60999, Reason: "more ports for the proxy", Actor: actor}
}

func wantErr[T error](t *testing.T, err error) {
	t.Helper()
	var target T
	if !errors.As(err, &target) {
		t.Fatalf("err = %v (%T), want a %T", err, err, target)
	}
}
