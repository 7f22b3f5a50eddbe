package fleet_test

import (
	"context"
	"testing"
	"time"

	"portpanel/agentapi"
)

// A confirmation made while no poll of the host was waiting (its wake-up
// lost) is answered at once by the next poll, not after a whole long
// poll: the agent's revert deadline may be shorter than that.
func TestPendingConfirmationAnswersAtOnce(t *testing.T) {
	s, _ := newService(t)
	a, _ := enrollHost(t, s, "web1")
	ctx := context.Background()
	change := &agentapi.DesiredChange{Operation: agentapi.OpSet, Keys: map[string]string{agentapi.KeyRange: "20000 60000"}, ConfirmWithin: 10}
	if _, err := s.SetDesired(ctx, "web1", change, nil); err != nil {
		t.Fatal(err)
	}
	rep := agentapi.Report{PollSeconds: 30, Results: []agentapi.Result{{Generation: 1, State: agentapi.ResultUnconfirmed}}}
	if _, err := s.RecordReport(ctx, a, rep); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Confirm(ctx, "web1", 1); err != nil {
		t.Fatal(err)
	}
	poll, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if d, err := s.Desired(poll, a, 1, agentapi.MaxWait); err != nil || len(d.Confirm) != 1 {
		t.Errorf("poll = %+v, %v; want generation 1 confirmed at once", d, err)
	}
}
