package change_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"portpanel/agentapi"
	"portpanel/change"
	"portpanel/db"
)

func TestRemoteProposalPassesTheSameGate(t *testing.T) {
	f := newFakeFleet(t)
	svc := remoteService(t, f, true)
	f.answer = answerWith(agentapi.ResultApplied, "")
	ctx := context.Background()
	p, err := svc.ApplyRemote(ctx, testHost, remoteRequest(proposer))
	if err != nil || p.Status != db.StatusProposed || p.Host != testHost {
		t.Fatalf("proposal = %s on %q, %v; want proposed on %s", p.Status, p.Host, err, testHost)
	}
	if f.sentCount() != 0 {
		t.Fatal("a proposal was sent to the host")
	}
	for _, who := range []change.Actor{proposer, {ID: 9, Name: "otto", Role: "operator"}} {
		if _, err := svc.Approve(ctx, p.ID, who, ""); !errors.Is(err, change.ErrForbidden) {
			t.Errorf("%s (%s) approving: err = %v, want forbidden", who.Name, who.Role, err)
		}
	}
	if f.sentCount() != 0 {
		t.Fatal("a refused approval sent the change")
	}
	c, err := svc.Approve(ctx, p.ID, approver, "looks right")
	if err != nil || c.Status != db.StatusApplied {
		t.Fatalf("approved change = %s, %v; want applied", c.Status, err)
	}
	if e := lastEvent(t, svc.DB, "change.approved"); !strings.Contains(e.Detail, "on host "+testHost) || e.User != approver.Name {
		t.Errorf("approval event %q by %s, want it by %s naming the host", e.Detail, e.User, approver.Name)
	}
}

func TestRemoteProposalStaleWhenTheHostMoved(t *testing.T) {
	for _, tc := range []struct {
		name string
		move func(*fakeFleet)
	}{
		{"runtime", func(f *fakeFleet) { f.host.Observed.Runtime.Low = 33000 }},
		{"generation", func(f *fakeFleet) { f.host.Generation++ }},
		{"file", func(f *fakeFleet) {
			f.preview = func(map[string]string) (agentapi.PreviewResult, error) {
				return agentapi.PreviewResult{File: f.host.Observed.File, Diff: "another diff"}, nil
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeFleet(t)
			svc := remoteService(t, f, true)
			ctx := context.Background()
			p, err := svc.ApplyRemote(ctx, testHost, remoteRequest(proposer))
			if err != nil {
				t.Fatal(err)
			}
			tc.move(f)
			_, err = svc.Approve(ctx, p.ID, approver, "")
			wantErr[*change.ConflictError](t, err)
			if got := mustChange(t, svc.DB, p.ID); got.Status != db.StatusProposed || f.sentCount() != 0 {
				t.Errorf("change is %s, %d sent; want it still proposed, nothing sent", got.Status, f.sentCount())
			}
		})
	}
}

func TestRemoteRollbackSendsTheGenerationBack(t *testing.T) {
	f := newFakeFleet(t)
	svc := remoteService(t, f, false)
	f.answer = answerWith(agentapi.ResultApplied, "")
	ctx := context.Background()
	orig, err := svc.ApplyRemote(ctx, testHost, remoteRequest(proposer))
	if err != nil {
		t.Fatal(err)
	}
	f.host.Observed.Runtime = agentapi.Range{Low: 20000, High: 60999}
	rb, err := svc.Rollback(ctx, orig.ID, "", proposer)
	if err != nil || rb.Status != db.StatusApplied {
		t.Fatalf("rollback = %s, %v; want applied", rb.Status, err)
	}
	dc := f.lastSent(t)
	if dc.Operation != agentapi.OpRollback || dc.RollbackOf != orig.Generation || len(dc.Keys) != 0 {
		t.Errorf("sent %+v, want a rollback of generation %d", dc, orig.Generation)
	}
	if got := mustChange(t, svc.DB, orig.ID); got.Status != db.StatusReverted {
		t.Errorf("original is %s, want reverted", got.Status)
	}
	if rb.Low != 32768 || rb.High != 60999 || rb.BeforeLow != 20000 {
		t.Errorf("rollback sets %d–%d from %d, want 32768–60999 from 20000", rb.Low, rb.High, rb.BeforeLow)
	}
	if e := lastEvent(t, svc.DB, "change.rolled_back"); !strings.Contains(e.Detail, "on host "+testHost) {
		t.Errorf("rollback event %q does not name the host", e.Detail)
	}
}

func TestRemoteRollbackByAnOperatorIsAProposal(t *testing.T) {
	f := newFakeFleet(t)
	svc := remoteService(t, f, false)
	f.answer = answerWith(agentapi.ResultApplied, "")
	ctx := context.Background()
	orig, err := svc.ApplyRemote(ctx, testHost, remoteRequest(proposer))
	if err != nil {
		t.Fatal(err)
	}
	svc.RequireApproval = true
	rb, err := svc.Rollback(ctx, orig.ID, "", proposer)
	if err != nil || rb.Status != db.StatusProposed || f.sentCount() != 1 {
		t.Fatalf("rollback = %s, %v, %d sent; want a proposal, nothing more sent", rb.Status, err, f.sentCount())
	}
	if _, err := svc.Approve(ctx, rb.ID, proposer, ""); !errors.Is(err, change.ErrForbidden) {
		t.Errorf("its author approving: err = %v, want forbidden", err)
	}
	done, err := svc.Approve(ctx, rb.ID, approver, "")
	if err != nil || done.Status != db.StatusApplied || f.lastSent(t).Operation != agentapi.OpRollback {
		t.Fatalf("approved rollback = %s, %v; want applied as a rollback", done.Status, err)
	}
	if got := mustChange(t, svc.DB, orig.ID); got.Status != db.StatusReverted {
		t.Errorf("original is %s, want reverted", got.Status)
	}
	// An approver's rollback applies at once, marked as an emergency.
	f2 := newFakeFleet(t)
	svc2 := remoteService(t, f2, false)
	f2.answer = answerWith(agentapi.ResultApplied, "")
	orig2, err := svc2.ApplyRemote(ctx, testHost, remoteRequest(proposer))
	if err != nil {
		t.Fatal(err)
	}
	svc2.RequireApproval = true
	rb2, err := svc2.Rollback(ctx, orig2.ID, "", approver)
	if err != nil || rb2.Status != db.StatusApplied || !rb2.Emergency {
		t.Errorf("approver's rollback = %s emergency %v, %v; want applied as an emergency", rb2.Status, rb2.Emergency, err)
	}
}

func TestRemoteCommitConfirmedIsHeldByTheAgent(t *testing.T) {
	f := newFakeFleet(t)
	svc := remoteService(t, f, false)
	f.answer = answerWith(agentapi.ResultUnconfirmed, "")
	ctx := context.Background()
	req := remoteRequest(proposer)
	req.ConfirmWithin = 2 * time.Minute
	c, err := svc.ApplyRemote(ctx, testHost, req)
	if err != nil || c.Status != db.StatusApplied || c.ConfirmBy == nil || c.AgentResult != agentapi.ResultUnconfirmed {
		t.Fatalf("change = %s by %v (%s), %v; want applied, awaiting confirmation", c.Status, c.ConfirmBy, c.AgentResult, err)
	}
	if dc := f.lastSent(t); dc.ConfirmWithin != 120 {
		t.Errorf("sent confirm_within %d, want 120", dc.ConfirmWithin)
	}
	f.mu.Lock()
	f.answer = nil
	f.mu.Unlock()
	// The agent reports its confirmation after the control plane sent it.
	go func() {
		for {
			f.mu.Lock()
			n := len(f.confirms)
			f.mu.Unlock()
			if n > 0 {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		if err := svc.RecordRemoteResults(ctx, testHost, []agentapi.Result{{Generation: c.Generation, State: agentapi.ResultConfirmed, At: time.Now()}}); err != nil {
			t.Errorf("record: %v", err)
		}
	}()
	got, err := svc.Confirm(ctx, c.ID, approver)
	if err != nil || got.Status != db.StatusConfirmed || got.ConfirmedBy != approver.Name {
		t.Fatalf("confirmed = %s by %q, %v; want confirmed by %s", got.Status, got.ConfirmedBy, err, approver.Name)
	}
	if len(f.confirms) != 1 || f.confirms[0] != c.Generation {
		t.Errorf("confirms sent %v, want generation %d", f.confirms, c.Generation)
	}
}

func TestRemoteChangeRevertedByTheAgent(t *testing.T) {
	f := newFakeFleet(t)
	svc := remoteService(t, f, false)
	f.answer = answerWith(agentapi.ResultUnconfirmed, "")
	ctx := context.Background()
	req := remoteRequest(proposer)
	req.ConfirmWithin = time.Minute
	c, err := svc.ApplyRemote(ctx, testHost, req)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.RecordRemoteResults(ctx, testHost, []agentapi.Result{{Generation: c.Generation, State: agentapi.ResultReverted,
		Error: "not confirmed by its deadline", At: time.Now()}}); err != nil {
		t.Fatal(err)
	}
	if got := mustChange(t, svc.DB, c.ID); got.Status != db.StatusReverted || got.AgentResult != agentapi.ResultReverted {
		t.Errorf("change is %s (%s), want reverted", got.Status, got.AgentResult)
	}
	if e := lastEvent(t, svc.DB, "change.reverted"); !strings.Contains(e.Detail, testHost) || e.User != change.SystemUser {
		t.Errorf("revert event %q by %q, want portpanel's naming the host", e.Detail, e.User)
	}
	// Another change may follow now that nothing awaits confirmation.
	f.answer = answerWith(agentapi.ResultApplied, "")
	if _, err := svc.ApplyRemote(ctx, testHost, remoteRequest(proposer)); err != nil {
		t.Errorf("next change: %v", err)
	}
}
