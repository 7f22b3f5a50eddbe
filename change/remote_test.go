package change_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"portpanel/agentapi"
	"portpanel/change"
	"portpanel/db"
	"portpanel/fleet"
	"portpanel/sysctl"
	"portpanel/sysctl/sysctltest"
)

func TestRemoteApplyFollowsTheAgentsResult(t *testing.T) {
	f := newFakeFleet(t)
	svc := remoteService(t, f, false)
	f.answer = answerWith(agentapi.ResultApplied, "")
	c, err := svc.ApplyRemote(context.Background(), testHost, remoteRequest(admin))
	if err != nil {
		t.Fatal(err)
	}
	if c.Status != db.StatusApplied || c.Host != testHost || c.Generation != 4 || c.BaseGeneration != 3 || c.AgentResult != agentapi.ResultApplied {
		t.Errorf("change = status %s host %q generation %d (base %d) result %q, want applied on %s at 4 (base 3), applied",
			c.Status, c.Host, c.Generation, c.BaseGeneration, c.AgentResult, testHost)
	}
	dc := f.lastSent(t)
	if dc.Operation != agentapi.OpSet || dc.Keys[agentapi.KeyRange] != "20000 60999" || dc.ChangeID != c.ID || dc.Author != admin.Name {
		t.Errorf("sent %+v, want a set of %s to 20000 60999 for change %d by %s", dc, agentapi.KeyRange, c.ID, admin.Name)
	}
	if _, ok := dc.Keys[agentapi.KeyReserved]; ok {
		t.Errorf("sent %+v: the reserved ports were not part of the change", dc.Keys)
	}
	if c.Diff == "" || c.File != f.host.Observed.File {
		t.Errorf("change diff %q file %q, want the agent's preview", c.Diff, c.File)
	}
	for _, action := range []string{"change.applying", "change.applied"} {
		if e := lastEvent(t, svc.DB, action); !strings.Contains(e.Detail, "on host "+testHost) {
			t.Errorf("%s event %q does not name the host", action, e.Detail)
		}
	}
	// The same report again (or from another replica) changes nothing.
	n := len(auditEvents(t, svc.DB))
	if err := svc.RecordRemoteResults(context.Background(), testHost, answerWith(agentapi.ResultApplied, "")(4, dc)); err != nil {
		t.Fatal(err)
	}
	if got := len(auditEvents(t, svc.DB)); got != n {
		t.Errorf("a repeated report added %d audit events", got-n)
	}
}

func TestRemoteApplyFailsWithTheAgentsReason(t *testing.T) {
	f := newFakeFleet(t)
	svc := remoteService(t, f, false)
	f.answer = answerWith(agentapi.ResultFailed, "refused: 20000 is below ip_unprivileged_port_start")
	_, err := svc.ApplyRemote(context.Background(), testHost, remoteRequest(admin))
	var failed *change.FailedError
	if !errors.As(err, &failed) {
		t.Fatalf("err = %v, want a FailedError", err)
	}
	if failed.Change.Status != db.StatusFailed || !strings.Contains(failed.Change.Error, "ip_unprivileged_port_start") {
		t.Errorf("change = %s %q, want failed with the agent's reason", failed.Change.Status, failed.Change.Error)
	}
}

func TestRemoteChangeRefusedBeforeAnythingIsSent(t *testing.T) {
	stale := sysctl.Range{Low: 1, High: 2}
	gen := int64(2)
	for _, tc := range []struct {
		name  string
		setup func(*fakeFleet, *change.Request)
		check func(*testing.T, error)
	}{
		{"no answer to the preview", func(f *fakeFleet, _ *change.Request) {
			f.preview = func(map[string]string) (agentapi.PreviewResult, error) {
				return agentapi.PreviewResult{}, fleet.ErrNoAnswer
			}
		}, func(t *testing.T, err error) { wantErr[*change.NoAnswerError](t, err) }},
		{"stale runtime", func(_ *fakeFleet, r *change.Request) { r.Base = &stale },
			func(t *testing.T, err error) { wantErr[*change.ConflictError](t, err) }},
		{"stale generation", func(_ *fakeFleet, r *change.Request) { r.BaseGeneration = &gen },
			func(t *testing.T, err error) { wantErr[*change.ConflictError](t, err) }},
		{"stale diff", func(_ *fakeFleet, r *change.Request) { r.BaseFile = "preview:0000" },
			func(t *testing.T, err error) { wantErr[*change.ConflictError](t, err) }},
		{"agent refuses", func(f *fakeFleet, _ *change.Request) {
			f.preview = func(map[string]string) (agentapi.PreviewResult, error) {
				return agentapi.PreviewResult{Error: "20000 is below ip_unprivileged_port_start"}, nil
			}
		}, func(t *testing.T, err error) { wantErr[*change.InvalidError](t, err) }},
		{"hazard not acknowledged", func(f *fakeFleet, _ *change.Request) {
			f.preview = func(map[string]string) (agentapi.PreviewResult, error) {
				return agentapi.PreviewResult{File: "/f", Diff: "x", Hazards: []agentapi.Hazard{{Code: change.HazardSmallRange, Message: "few"}}}, nil
			}
		}, func(t *testing.T, err error) { wantErr[*change.HazardError](t, err) }},
		{"observe-only host", func(f *fakeFleet, _ *change.Request) { f.host.ObserveOnly = true },
			func(t *testing.T, err error) { wantErr[*change.ConflictError](t, err) }},
		{"revoked host", func(f *fakeFleet, _ *change.Request) { f.host.Revoked = true },
			func(t *testing.T, err error) { wantErr[*change.ConflictError](t, err) }},
		{"invalid range", func(_ *fakeFleet, r *change.Request) { r.Low = 70000 },
			func(t *testing.T, err error) {
				if !isInvalid(err) {
					t.Fatalf("err = %v, want invalid", err)
				}
			}},
		{"unknown host", func(f *fakeFleet, _ *change.Request) { f.host.Name = "other" },
			func(t *testing.T, err error) {
				if !errors.Is(err, db.ErrNotFound) {
					t.Fatalf("err = %v, want not found", err)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeFleet(t)
			svc := remoteService(t, f, false)
			req := remoteRequest(admin)
			tc.setup(f, &req)
			_, err := svc.ApplyRemote(context.Background(), testHost, req)
			tc.check(t, err)
			if n := f.sentCount(); n != 0 {
				t.Errorf("%d changes sent, want none", n)
			}
			if list, _ := svc.DB.Changes(context.Background(), 10, 0); len(list) != 0 {
				t.Errorf("%d changes recorded, want none", len(list))
			}
		})
	}
}

func TestRemoteHazardAcknowledgedIsSentWithTheChange(t *testing.T) {
	f := newFakeFleet(t)
	svc := remoteService(t, f, false)
	f.preview = func(map[string]string) (agentapi.PreviewResult, error) {
		return agentapi.PreviewResult{File: "/f", Diff: "x", Hazards: []agentapi.Hazard{{Code: change.HazardSmallRange, Message: "few"}}}, nil
	}
	f.answer = answerWith(agentapi.ResultApplied, "")
	req := remoteRequest(admin)
	req.Acknowledge = []string{change.HazardSmallRange}
	c, err := svc.ApplyRemote(context.Background(), testHost, req)
	if err != nil {
		t.Fatal(err)
	}
	if dc := f.lastSent(t); len(dc.Acknowledge) != 1 || dc.Acknowledge[0] != change.HazardSmallRange {
		t.Errorf("sent acknowledgements %v, want the author's", dc.Acknowledge)
	}
	if len(c.Hazards) != 1 || len(c.Acknowledged) != 1 {
		t.Errorf("change hazards %v acknowledged %v, want the agent's hazard, acknowledged", c.Hazards, c.Acknowledged)
	}
}

func TestRemoteChangeRefusedWhileAnotherIsOnItsWay(t *testing.T) {
	f := newFakeFleet(t)
	svc := remoteService(t, f, false)
	svc.RemoteWait = 50 * time.Millisecond // the agent never answers
	c, err := svc.ApplyRemote(context.Background(), testHost, remoteRequest(admin))
	if err != nil || c.Status != db.StatusApplying {
		t.Fatalf("first change = %s, %v; want it applying (no answer yet)", c.Status, err)
	}
	req := remoteRequest(admin)
	req.Low = 25000
	_, err = svc.ApplyRemote(context.Background(), testHost, req)
	wantErr[*change.ConflictError](t, err)
	if f.sentCount() != 1 {
		t.Errorf("%d changes sent, want only the first", f.sentCount())
	}
}

func TestLocalDeadlinesLeaveRemoteChangesAlone(t *testing.T) {
	f := newFakeFleet(t)
	svc := remoteService(t, f, false)
	f.answer = answerWith(agentapi.ResultUnconfirmed, "")
	req := remoteRequest(admin)
	req.ConfirmWithin = time.Second
	c, err := svc.ApplyRemote(context.Background(), testHost, req)
	if err != nil || c.ConfirmBy == nil {
		t.Fatalf("change = %+v, %v; want applied awaiting confirmation", c, err)
	}
	svc.Now = func() time.Time { return time.Now().Add(time.Hour) } // long past the deadline
	if n, err := svc.RevertDue(context.Background()); n != 0 || err != nil {
		t.Errorf("RevertDue = %d, %v; want the host's agent to hold the deadline", n, err)
	}
	if got := mustChange(t, svc.DB, c.ID); got.Status != db.StatusApplied {
		t.Errorf("change is %s after the local revert, want applied", got.Status)
	}
}

// The panel's start-up recovery resolves its own interrupted changes
// only: a remote change on its way is its agent's to finish.
func TestRecoveryLeavesRemoteChangesAlone(t *testing.T) {
	f := newFakeFleet(t)
	svc := remoteService(t, f, false)
	svc.RemoteWait = 50 * time.Millisecond // the agent never answers
	c, err := svc.ApplyRemote(context.Background(), testHost, remoteRequest(admin))
	if err != nil || c.Status != db.StatusApplying {
		t.Fatalf("change = %s, %v; want it applying", c.Status, err)
	}
	root := t.TempDir()
	svc.Kernel, svc.Config = sysctl.Kernel{ProcSys: sysctltest.FakeProcSys(t)}, sysctl.Config{Root: root}
	svc.File, svc.Reader = filepath.Join(root, "etc", "sysctl.conf"), sysctl.ReaderProcps
	if got, err := svc.Recover(context.Background()); err != nil || len(got) != 0 {
		t.Errorf("Recover = %d changes, %v; want none touched", len(got), err)
	}
	if got := mustChange(t, svc.DB, c.ID); got.Status != db.StatusApplying {
		t.Errorf("the remote change is %s after the local recovery, want applying", got.Status)
	}
}
