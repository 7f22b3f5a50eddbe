package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"portpanel/auth"
	"portpanel/db"
	"portpanel/sysctl"
	"portpanel/sysctl/sysctltest"
)

func TestApprovalThroughTheAPIAndTheForms(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	e := newEnv(t, sysctltest.ProcSys())
	e.h.Changes.RequireApproval = true
	op := e.login(t, auth.RoleOperator)
	alice := e.loginAs(t, "alice", auth.RoleApprover)
	bob := e.loginAs(t, "bob", auth.RoleApprover)
	opAPI, aliceAPI, bobAPI := op.apiHeader(), alice.apiHeader(), bob.apiHeader()

	// The operator proposes through the form: review, then confirm.
	form := changeForm(op.csrf("/"), "40000", "50001", "more ports")
	review := body(op.post("/changes", form))
	res := op.post("/changes", with(form, "confirm", "yes", "base_file", hiddenInput(t, review, "base_file")))
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/changes/1" {
		t.Fatalf("propose through the form: %d to %q\n%s", res.StatusCode, res.Header.Get("Location"), body(res))
	}
	// An approver proposes through the API: approval applies to everyone.
	res = alice.postJSON("/api/v1/changes", `{"low":41000,"high":50001,"reason":"even more"}`, aliceAPI.Clone())
	if p := decode[changeOut](t, res); res.StatusCode != http.StatusAccepted || p.Status != db.StatusProposed || p.ID != 2 {
		t.Fatalf("propose through the API: %d %+v, want 202 proposed", res.StatusCode, p)
	}
	assertKernel(t, kernelDefault)
	if f := fileContent(t, e.file); f != "<absent>" {
		t.Errorf("a proposal wrote the file:\n%s", f)
	}
	wantStatus(t, op, 1, db.StatusProposed)

	page := body(op.get("/changes/pending"))
	for _, s := range []string{`href="/changes/1"`, `href="/changes/2"`, "+" + rangeLine("40000", "50001"), "+" + rangeLine("41000", "50001")} {
		if !mentions(page, s) {
			t.Errorf("the pending page lacks %q", s)
		}
	}

	if res := op.postJSON("/api/v1/changes/1/approve", "", opAPI.Clone()); res.StatusCode != http.StatusForbidden {
		t.Errorf("an operator approves: %d, want 403", res.StatusCode)
	}
	res = alice.postJSON("/api/v1/changes/2/approve", `{}`, aliceAPI.Clone())
	if out := decode[apiError](t, res); res.StatusCode != http.StatusForbidden || !strings.Contains(out.Error, "another approver") {
		t.Errorf("approve own proposal through the API: %d %q, want 403", res.StatusCode, out.Error)
	}
	res = alice.post("/changes/2/approve", url.Values{"csrf": {alice.csrf("/")}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/changes/2" {
		t.Errorf("approve own proposal through the form: %d to %q, want 303 back to the change", res.StatusCode, res.Header.Get("Location"))
	}
	if page := body(alice.get("/changes/2")); !mentions(page, "Not approved") || !mentions(page, "another approver") {
		t.Errorf("the change page does not say why it was not approved:\n%s", page)
	}
	wantStatus(t, op, 2, db.StatusProposed)
	assertKernel(t, kernelDefault)

	// Rejecting needs a reason.
	res = bob.postJSON("/api/v1/changes/1/reject", `{}`, bobAPI.Clone())
	if out := decode[apiError](t, res); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(out.Error, "rejected") {
		t.Errorf("reject without a reason: %d %q, want 422", res.StatusCode, out.Error)
	}
	if res := bob.post("/changes/1/reject", url.Values{"csrf": {bob.csrf("/")}}); res.StatusCode != http.StatusSeeOther {
		t.Errorf("reject without a reason through the form: %d, want 303 with a flash", res.StatusCode)
	}
	wantStatus(t, op, 1, db.StatusProposed)

	// Bob approves the operator's proposal through the form: it applies.
	res = bob.post("/changes/1/approve", url.Values{"reason": {"looks right"}, "csrf": {bob.csrf("/")}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/changes/1" {
		t.Fatalf("approve: %d to %q\n%s", res.StatusCode, res.Header.Get("Location"), body(res))
	}
	assertKernel(t, sysctl.Range{Low: 40000, High: 50001})
	if f := fileContent(t, e.file); !strings.Contains(f, rangeLine("40000", "50001")) {
		t.Errorf("the file after approval:\n%s", f)
	}
	if c := apiChange(t, op, nil, 1); c.Status != db.StatusApplied || c.User != "operator1" || c.DecidedBy != "bob" ||
		c.DecisionReason != "looks right" || c.DecidedAt == nil {
		t.Errorf("approved change = %+v", c)
	}

	// Alice's proposal was planned on the old value: it is stale now.
	res = bob.postJSON("/api/v1/changes/2/approve", "", bobAPI.Clone())
	if out := decode[apiError](t, res); res.StatusCode != http.StatusConflict || !strings.Contains(out.Error, "running range is now 40000–50001") {
		t.Errorf("approve a stale proposal: %d %q, want 409", res.StatusCode, out.Error)
	}
	wantStatus(t, op, 2, db.StatusProposed)
	res = bob.postJSON("/api/v1/changes/2/reject", `{"reason":"superseded by #1"}`, bobAPI.Clone())
	if c := decode[changeOut](t, res); res.StatusCode != http.StatusOK || c.Status != db.StatusRejected || c.DecidedBy != "bob" || c.DecisionReason != "superseded by #1" {
		t.Errorf("reject: %d %+v", res.StatusCode, c)
	}
	assertKernel(t, sysctl.Range{Low: 40000, High: 50001})
	if page := body(op.get("/changes/pending")); strings.Contains(page, `href="/changes/1"`) || strings.Contains(page, `href="/changes/2"`) {
		t.Error("the pending page still lists decided changes")
	}
	if _, err := e.h.DB.VerifyAudit(t.Context()); err != nil {
		t.Errorf("audit chain: %v", err)
	}
}

func TestRollbackUnderApproval(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	e := newEnv(t, sysctltest.ProcSys())
	e.h.Changes.RequireApproval = true
	op := e.bearer(t, "olivia", auth.RoleOperator)
	alice := e.bearer(t, "alice", auth.RoleApprover)
	c := e.client(t)
	apply := func(low string) int64 {
		t.Helper()
		res := c.postJSON("/api/v1/changes", `{"low":`+low+`,"high":50001,"reason":"x"}`, op.Clone())
		p := decode[changeOut](t, res)
		if res.StatusCode != http.StatusAccepted {
			t.Fatalf("propose: %d %+v", res.StatusCode, p)
		}
		if res := c.postJSON("/api/v1/changes/"+itoa(p.ID)+"/approve", "", alice.Clone()); res.StatusCode != http.StatusOK {
			t.Fatalf("approve: %d %s", res.StatusCode, body(res))
		}
		return p.ID
	}

	first := apply("40000")
	res := c.postJSON("/api/v1/changes/"+itoa(first)+"/rollback", `{"reason":"undo"}`, op.Clone())
	rb := decode[changeOut](t, res)
	if res.StatusCode != http.StatusAccepted || rb.Status != db.StatusProposed || rb.RollbackOf == nil || *rb.RollbackOf != first || rb.Emergency {
		t.Fatalf("an operator's rollback: %d %+v, want 202 proposed", res.StatusCode, rb)
	}
	assertKernel(t, sysctl.Range{Low: 40000, High: 50001})
	if res := c.postJSON("/api/v1/changes/"+itoa(rb.ID)+"/approve", "", alice.Clone()); res.StatusCode != http.StatusOK {
		t.Fatalf("approve the rollback: %d %s", res.StatusCode, body(res))
	}
	assertKernel(t, kernelDefault)
	if f := fileContent(t, e.file); f != "<absent>" {
		t.Errorf("the approved rollback left the file:\n%s", f)
	}
	if orig := apiChange(t, c, op, first); orig.Status != db.StatusReverted {
		t.Errorf("the rolled back change is %s, want reverted", orig.Status)
	}

	second := apply("40000")
	// An operator signed in proposes a rollback through the form meanwhile.
	oscar := e.loginAs(t, "oscar", auth.RoleOperator)
	res = oscar.post("/changes/"+itoa(second)+"/rollback", url.Values{"reason": {"undo"}, "csrf": {oscar.csrf("/")}})
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/changes/") {
		t.Fatalf("form rollback: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	proposal := strings.TrimPrefix(res.Header.Get("Location"), "/changes/")
	assertKernel(t, sysctl.Range{Low: 40000, High: 50001})

	res = c.postJSON("/api/v1/changes/"+itoa(second)+"/rollback", `{"reason":"on fire"}`, alice.Clone())
	em := decode[changeOut](t, res)
	if res.StatusCode != http.StatusCreated || em.Status != db.StatusApplied || !em.Emergency || em.User != "alice" {
		t.Fatalf("an approver's rollback: %d %+v, want 201 applied as an emergency", res.StatusCode, em)
	}
	assertKernel(t, kernelDefault)
	events, _ := e.h.DB.Audit(t.Context(), 1, 0)
	if len(events) != 1 || events[0].Action != "change.rolled_back" || !strings.Contains(events[0].Detail, "emergency") {
		t.Errorf("the last audit event = %+v, want the emergency rollback", events)
	}
	// The operator's proposal is moot now; approving it must not re-apply anything.
	if res := c.postJSON("/api/v1/changes/"+proposal+"/approve", "", alice.Clone()); res.StatusCode != http.StatusConflict {
		t.Errorf("approve a moot rollback proposal: %d, want 409", res.StatusCode)
	}
	assertKernel(t, kernelDefault)
	if _, err := e.h.DB.VerifyAudit(t.Context()); err != nil {
		t.Errorf("audit chain: %v", err)
	}
}

// wantStatus checks the status of change id.
func wantStatus(t *testing.T, c *client, id int64, status string) {
	t.Helper()
	if got := apiChange(t, c, nil, id); got.Status != status {
		t.Errorf("change #%d is %s, want %s", id, got.Status, status)
	}
}
