package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"portpanel/auth"
	"portpanel/db"
	"portpanel/sysctl"
	"portpanel/sysctl/sysctltest"
)

// TestConcurrentDecisionsOnOneProposal races approvals and rejections of
// one proposal: exactly one decision wins, and it alone shows anywhere.
func TestConcurrentDecisionsOnOneProposal(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	e := newEnv(t, sysctltest.ProcSys())
	e.h.Changes.RequireApproval = true
	op := e.bearer(t, "olivia", auth.RoleOperator)
	c := e.client(t)

	res := c.postJSON("/api/v1/changes", `{"low":40000,"high":50001,"reason":"x","dry_run":true}`, op.Clone())
	if pv := decode[previewOut](t, res); res.StatusCode != http.StatusOK || !pv.RequiresApproval {
		t.Errorf("dry run with approval on: %d %+v, want requires_approval", res.StatusCode, pv)
	}
	res = c.postJSON("/api/v1/changes", `{"low":40000,"high":50001,"reason":"x"}`, op.Clone())
	p := decode[changeOut](t, res)
	if res.StatusCode != http.StatusAccepted {
		t.Fatalf("propose: %d %+v", res.StatusCode, p)
	}

	const n = 6
	reqs := make([]*http.Request, n)
	for i := range n {
		hdr := e.bearer(t, fmt.Sprintf("approver%d", i), auth.RoleApprover)
		if i%2 == 0 {
			reqs[i] = jsonRequest(t, e, "/api/v1/changes/"+itoa(p.ID)+"/approve", `{"reason":"ok"}`, hdr)
		} else {
			reqs[i] = jsonRequest(t, e, "/api/v1/changes/"+itoa(p.ID)+"/reject", `{"reason":"no"}`, hdr)
		}
	}
	results := fireTogether(reqs)
	winner := -1
	for i, r := range results {
		switch {
		case r.err != nil:
			t.Errorf("request %d: %v", i, r.err)
		case r.status == http.StatusOK && winner == -1:
			winner = i
		case r.status == http.StatusOK:
			t.Errorf("requests %d and %d both decided the proposal", winner, i)
		case r.status != http.StatusConflict:
			t.Errorf("request %d: %d %s, want 200 or 409", i, r.status, r.body)
		}
	}
	if winner == -1 {
		t.Fatalf("no decision won: %+v", results)
	}
	got := apiChange(t, c, op, p.ID)
	wantBy := fmt.Sprintf("approver%d", winner)
	if winner%2 == 0 {
		if got.Status != db.StatusApplied || got.DecidedBy != wantBy {
			t.Errorf("approved by %s, but the change is %+v", wantBy, got)
		}
		assertKernel(t, sysctl.Range{Low: 40000, High: 50001})
	} else {
		if got.Status != db.StatusRejected || got.DecidedBy != wantBy {
			t.Errorf("rejected by %s, but the change is %+v", wantBy, got)
		}
		assertKernel(t, kernelDefault)
	}
	events, _ := e.h.DB.Audit(t.Context(), 1000, 0)
	decisions := 0
	for _, ev := range events {
		if ev.Action == "change.approved" || ev.Action == "change.rejected" || strings.HasPrefix(ev.Action, "change.fail") {
			decisions++
		}
	}
	if decisions != 1 {
		t.Errorf("%d decision events in the audit log, want 1", decisions)
	}
	if _, err := e.h.DB.VerifyAudit(t.Context()); err != nil {
		t.Errorf("audit chain: %v", err)
	}
}
