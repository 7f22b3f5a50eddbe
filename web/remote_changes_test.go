package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"portpanel/agentapi"
	"portpanel/auth"
	"portpanel/db"
)

// remoteChangeOut is a change as the API returns it, with its host.
type remoteChangeOut struct {
	changeOut
	Host        string `json:"host"`
	Generation  int64  `json:"generation"`
	AgentResult string `json:"agent_result"`
}

type remotePreviewOut struct {
	Diff       string `json:"diff"`
	File       string `json:"file"`
	FileState  string `json:"file_state"`
	Host       string `json:"host"`
	Generation int64  `json:"generation"`
	Before     struct {
		Low  int `json:"low"`
		High int `json:"high"`
	} `json:"before"`
}

func TestRemoteChangeThroughTheAPI(t *testing.T) {
	e := newEnv(t, t.TempDir()) // the panel's own kernel is never read
	sim := e.withFleet(t)
	op := e.bearer(t, "olga", auth.RoleOperator)
	viewer := e.bearer(t, "vera", auth.RoleViewer)
	c := e.client(t)

	res := c.postJSON("/api/v1/hosts/web-1/changes", `{"low":20000,"high":60999,"reason":"more ports","dry_run":true}`, op.Clone())
	pv := decode[remotePreviewOut](t, res)
	if res.StatusCode != http.StatusOK || pv.Host != "web-1" || pv.File != simFile || !strings.Contains(pv.Diff, "20000 60999") || pv.Before.Low != 32768 {
		t.Fatalf("dry run: %d %+v, want the agent's diff of %s", res.StatusCode, pv, simFile)
	}
	if n := len(apiChanges(t, c, op)); n != 0 {
		t.Fatalf("a dry run recorded %d changes", n)
	}
	body := fmt.Sprintf(`{"low":20000,"high":60999,"reason":"more ports","base":{"low":32768,"high":60999,"file_state":%q,"generation":%d}}`,
		pv.FileState, pv.Generation)
	if res := c.postJSON("/api/v1/hosts/web-1/changes", body, viewer.Clone()); res.StatusCode != http.StatusForbidden {
		t.Errorf("a viewer changes a host: %d, want 403", res.StatusCode)
	}
	res = c.postJSON("/api/v1/hosts/web-1/changes", body, op.Clone())
	applied := decode[remoteChangeOut](t, res)
	if res.StatusCode != http.StatusCreated || applied.Status != db.StatusApplied || applied.Host != "web-1" ||
		applied.AgentResult != agentapi.ResultApplied || applied.Generation != pv.Generation+1 {
		t.Fatalf("apply: %d %+v, want 201 applied on web-1 at generation %d", res.StatusCode, applied, pv.Generation+1)
	}
	if got := sim.runtime; got != (agentapi.Range{Low: 20000, High: 60999}) {
		t.Errorf("the host's range is %v, want 20000 60999", got)
	}
	if e := lastAuditOf(t, e, "change.applied"); !strings.Contains(e.Detail, "on host web-1") {
		t.Errorf("the applied event does not name the host: %q", e.Detail)
	}

	// The same body again is stale: the host moved on.
	res = c.postJSON("/api/v1/hosts/web-1/changes", body, op.Clone())
	if out := decode[apiError](t, res); res.StatusCode != http.StatusConflict {
		t.Errorf("a stale edit: %d %q, want 409", res.StatusCode, out.Error)
	}
	if res := c.postJSON("/api/v1/hosts/nowhere/changes", `{"low":20000,"high":60999,"reason":"x"}`, op.Clone()); res.StatusCode != http.StatusNotFound {
		t.Errorf("an unknown host: %d, want 404", res.StatusCode)
	}

	// Rolled back through the host's route: the agent is sent the generation.
	res = c.postJSON(fmt.Sprintf("/api/v1/hosts/web-1/changes/%d/rollback", applied.ID), "", op.Clone())
	rb := decode[remoteChangeOut](t, res)
	if res.StatusCode != http.StatusCreated || rb.Status != db.StatusApplied || rb.RollbackOf == nil || *rb.RollbackOf != applied.ID {
		t.Fatalf("rollback: %d %+v, want 201 applied", res.StatusCode, rb)
	}
	if got := sim.runtime; got != (agentapi.Range{Low: 32768, High: 60999}) {
		t.Errorf("after the rollback the host's range is %v, want 32768 60999", got)
	}
	if got := apiRemoteChange(t, c, op, applied.ID); got.Status != db.StatusReverted {
		t.Errorf("the rolled back change is %s, want reverted", got.Status)
	}
	if res := c.postJSON(fmt.Sprintf("/api/v1/hosts/web-2/changes/%d/rollback", applied.ID), "", op.Clone()); res.StatusCode != http.StatusNotFound {
		t.Errorf("another host's change through this host's route: %d, want 404", res.StatusCode)
	}

	// Commit confirmed: the agent holds the deadline, the confirmation
	// goes to it, and the row follows its report.
	res = c.postJSON("/api/v1/hosts/web-1/changes", `{"low":21000,"high":60999,"reason":"try","confirm_within":120}`, op.Clone())
	cc := decode[remoteChangeOut](t, res)
	if res.StatusCode != http.StatusCreated || cc.ConfirmBy == nil || cc.AgentResult != agentapi.ResultUnconfirmed {
		t.Fatalf("commit-confirmed change: %d %+v, want applied awaiting confirmation", res.StatusCode, cc)
	}
	res = c.postJSON(fmt.Sprintf("/api/v1/hosts/web-1/changes/%d/confirm", cc.ID), "", op.Clone())
	if got := decode[remoteChangeOut](t, res); res.StatusCode != http.StatusOK || got.Status != db.StatusConfirmed || got.ConfirmedBy != "olga" {
		t.Errorf("confirm: %d %+v, want 200 confirmed by olga", res.StatusCode, got)
	}

	// Refused on the host: failed, with its reason.
	sim.mu.Lock()
	sim.refuse = "refused: 22000 is below what this kernel allows"
	sim.mu.Unlock()
	res = c.postJSON("/api/v1/hosts/web-1/changes", `{"low":22000,"high":60999,"reason":"x"}`, op.Clone())
	if out := decode[apiError](t, res); res.StatusCode != http.StatusUnprocessableEntity || out.Change == nil ||
		out.Change.Status != db.StatusFailed || !strings.Contains(out.Error, "below what this kernel allows") {
		t.Errorf("refused by the host: %d %+v, want 422 with the failed change", res.StatusCode, out)
	}

	list := decodeList(t, c.do(http.MethodGet, "/api/v1/hosts/web-1/changes", viewer.Clone(), nil))
	if len(list) != 4 || list[0].Host != "web-1" {
		t.Errorf("the host's changes: %d, want 4 of web-1", len(list))
	}
}

func TestRemoteChangeNeedsApprovalOnEveryPath(t *testing.T) {
	e := newEnv(t, t.TempDir())
	sim := e.withFleet(t)
	e.h.Changes.RequireApproval = true
	op := e.bearer(t, "olga", auth.RoleOperator)
	alice := e.bearer(t, "alice", auth.RoleApprover)
	c := e.client(t)

	// The API: a proposal, which its author cannot approve.
	res := c.postJSON("/api/v1/hosts/web-1/changes", `{"low":20000,"high":60999,"reason":"more"}`, alice.Clone())
	p := decode[remoteChangeOut](t, res)
	if res.StatusCode != http.StatusAccepted || p.Status != db.StatusProposed || p.Host != "web-1" {
		t.Fatalf("propose: %d %+v, want 202 proposed", res.StatusCode, p)
	}
	if res := c.postJSON(fmt.Sprintf("/api/v1/changes/%d/approve", p.ID), "", alice.Clone()); res.StatusCode != http.StatusForbidden {
		t.Errorf("its author approves: %d, want 403", res.StatusCode)
	}
	if sim.runtime.Low != 32768 {
		t.Fatalf("a proposal reached the host: %v", sim.runtime)
	}
	// The page: an approver approves through the form.
	bob := e.loginAs(t, "bob", auth.RoleApprover)
	res = bob.post(fmt.Sprintf("/changes/%d/approve", p.ID), url.Values{"csrf": {bob.csrf("/")}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("approve through the form: %d", res.StatusCode)
	}
	if got := apiRemoteChange(t, c, op, p.ID); got.Status != db.StatusApplied || got.DecidedBy != "bob" {
		t.Errorf("approved change = %s by %q, want applied, approved by bob", got.Status, got.DecidedBy)
	}
	// A rollback by an operator is a proposal too.
	res = c.postJSON(fmt.Sprintf("/api/v1/hosts/web-1/changes/%d/rollback", p.ID), "", op.Clone())
	if rb := decode[remoteChangeOut](t, res); res.StatusCode != http.StatusAccepted || rb.Status != db.StatusProposed {
		t.Errorf("an operator's rollback: %d %+v, want 202 proposed", res.StatusCode, rb)
	}
	if sim.runtime.Low != 20000 {
		t.Errorf("the rollback proposal reached the host: %v", sim.runtime)
	}
}

func TestRemoteChangeWhenTheAgentDoesNotAnswer(t *testing.T) {
	e := newEnv(t, t.TempDir())
	sim := e.withFleet(t)
	e.h.Changes.RemoteWait = 300 * time.Millisecond
	simHost(t, sim.fl, "web-9") // enrolled, reported once, never polls
	op := e.bearer(t, "olga", auth.RoleOperator)
	c := e.client(t)
	res := c.postJSON("/api/v1/hosts/web-9/changes", `{"low":20000,"high":60999,"reason":"more"}`, op.Clone())
	if out := decode[apiError](t, res); res.StatusCode != http.StatusGatewayTimeout || !strings.Contains(out.Error, "did not answer") {
		t.Errorf("no answer: %d %q, want 504", res.StatusCode, out.Error)
	}
	if n := len(apiChanges(t, c, op)); n != 0 {
		t.Errorf("%d changes recorded, want none", n)
	}
}

func apiRemoteChange(t *testing.T, c *client, hdr http.Header, id int64) remoteChangeOut {
	t.Helper()
	return decode[remoteChangeOut](t, c.do(http.MethodGet, fmt.Sprintf("/api/v1/changes/%d", id), hdr.Clone(), nil))
}

func decodeList(t *testing.T, res *http.Response) []remoteChangeOut {
	t.Helper()
	return decode[struct {
		Changes []remoteChangeOut `json:"changes"`
	}](t, res).Changes
}

func lastAuditOf(t *testing.T, e *env, action string) db.AuditEvent {
	t.Helper()
	events, err := e.h.DB.Audit(t.Context(), 1000, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range events {
		if ev.Action == action {
			return ev
		}
	}
	t.Fatalf("no %s in the audit log", action)
	return db.AuditEvent{}
}
