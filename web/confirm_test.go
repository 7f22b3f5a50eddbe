package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"portpanel/auth"
	"portpanel/db"
	"portpanel/sysctl"
	"portpanel/sysctl/sysctltest"
)

const confirmBanner = `data-testid="confirm-banner"`

func TestCommitConfirmedThroughTheAPI(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	e := newEnv(t, sysctltest.ProcSys())
	clk := newClock()
	e.h.Changes.Now = clk.Now
	op := e.login(t, auth.RoleOperator)
	viewer := e.login(t, auth.RoleViewer)
	hdr := op.apiHeader()

	res := op.postJSON("/api/v1/changes", `{"low":40000,"high":50001,"reason":"try it","confirm_within":120}`, hdr.Clone())
	first := decode[changeOut](t, res)
	if res.StatusCode != http.StatusCreated || first.Status != db.StatusApplied || first.ConfirmWithin != 120 || first.ConfirmBy == nil {
		t.Fatalf("apply with confirm_within: %d %+v", res.StatusCode, first)
	}
	if by, err := time.Parse(time.RFC3339Nano, *first.ConfirmBy); err != nil || !by.Equal(clk.Now().Add(120*time.Second)) {
		t.Errorf("confirm_by = %s, want %s", *first.ConfirmBy, clk.Now().Add(120*time.Second).Format(time.RFC3339))
	}
	assertKernel(t, sysctl.Range{Low: 40000, High: 50001})
	for _, c := range []*client{op, viewer} {
		for _, p := range []string{"/", "/changes", "/changes/1", "/history", "/audit"} {
			if page := body(c.get(p)); !strings.Contains(page, confirmBanner) {
				t.Errorf("GET %s does not show the confirmation banner", p)
			}
		}
	}

	// Nothing else changes while a change awaits confirmation.
	res = op.postJSON("/api/v1/changes", `{"low":41000,"high":50001,"reason":"another"}`, hdr.Clone())
	if out := decode[apiError](t, res); res.StatusCode != http.StatusConflict || !strings.Contains(out.Error, "awaits confirmation") {
		t.Errorf("another change meanwhile: %d %q, want 409", res.StatusCode, out.Error)
	}
	if res := viewer.postJSON("/api/v1/changes/1/confirm", "", viewer.apiHeader()); res.StatusCode != http.StatusForbidden {
		t.Errorf("a viewer confirms: %d, want 403", res.StatusCode)
	}

	clk.Advance(time.Minute)
	res = op.postJSON("/api/v1/changes/1/confirm", "", hdr.Clone())
	if c := decode[changeOut](t, res); res.StatusCode != http.StatusOK || c.Status != db.StatusConfirmed || c.ConfirmedBy != "operator1" || c.ConfirmedAt == nil {
		t.Fatalf("confirm: %d %+v", res.StatusCode, c)
	}
	if page := body(op.get("/")); strings.Contains(page, confirmBanner) {
		t.Error("the banner is still shown after the confirmation")
	}
	if res := op.postJSON("/api/v1/changes/1/confirm", "", hdr.Clone()); res.StatusCode != http.StatusConflict {
		t.Errorf("confirm twice: %d, want 409", res.StatusCode)
	}
	clk.Advance(time.Hour)
	if n, err := e.h.Changes.RevertDue(t.Context()); n != 0 || err != nil {
		t.Errorf("RevertDue after the deadline of a confirmed change = %d, %v; want 0", n, err)
	}
	assertKernel(t, sysctl.Range{Low: 40000, High: 50001})

	// Not confirmed in time: reverted.
	res = op.postJSON("/api/v1/changes", `{"low":41000,"high":50001,"reason":"risky","confirm_within":300}`, hdr.Clone())
	second := decode[changeOut](t, res)
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("second change: %d %+v", res.StatusCode, second)
	}
	clk.Advance(299 * time.Second)
	if n, err := e.h.Changes.RevertDue(t.Context()); n != 0 || err != nil {
		t.Errorf("RevertDue before the deadline = %d, %v; want 0", n, err)
	}
	assertKernel(t, sysctl.Range{Low: 41000, High: 50001})
	clk.Advance(2 * time.Second)
	if res := op.postJSON("/api/v1/changes/"+itoa(second.ID)+"/confirm", "", hdr.Clone()); res.StatusCode != http.StatusConflict {
		t.Errorf("confirm after the deadline: %d, want 409", res.StatusCode)
	}
	if n, err := e.h.Changes.RevertDue(t.Context()); n != 1 || err != nil {
		t.Fatalf("RevertDue after the deadline = %d, %v; want 1", n, err)
	}
	assertKernel(t, sysctl.Range{Low: 40000, High: 50001})
	if f := fileContent(t, e.file); !strings.Contains(f, rangeLine("40000", "50001")) || strings.Contains(f, "41000") {
		t.Errorf("the file after the revert:\n%s", f)
	}
	list := apiChanges(t, op, nil)
	if len(list) != 3 || list[0].RollbackOf == nil || *list[0].RollbackOf != second.ID || list[0].User != "portpanel" ||
		list[0].Status != db.StatusApplied || list[1].Status != db.StatusReverted || list[2].Status != db.StatusConfirmed {
		t.Errorf("changes after the revert = %+v", list)
	}
	if page := body(viewer.get("/")); strings.Contains(page, confirmBanner) {
		t.Error("the banner is still shown after the revert")
	}
	if _, err := e.h.DB.VerifyAudit(t.Context()); err != nil {
		t.Errorf("audit chain: %v", err)
	}
}

func TestCommitConfirmedThroughTheForms(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	e := newEnv(t, sysctltest.ProcSys())
	op := e.login(t, auth.RoleOperator)
	form := with(changeForm(op.csrf("/"), "40000", "50001", "try it"), "confirm_within", "120")
	review := body(op.post("/changes", form))
	res := op.post("/changes", with(form, "confirm", "yes", "base_file", hiddenInput(t, review, "base_file")))
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/changes/1" {
		t.Fatalf("apply: %d to %q\n%s", res.StatusCode, res.Header.Get("Location"), body(res))
	}
	if c := apiChange(t, op, nil, 1); c.Status != db.StatusApplied || c.ConfirmWithin != 120 || c.ConfirmBy == nil {
		t.Errorf("change = %+v, want it awaiting confirmation", c)
	}
	if page := body(op.get("/")); !strings.Contains(page, confirmBanner) || !strings.Contains(page, `action="/changes/1/confirm"`) {
		t.Error("the dashboard does not offer to confirm the change")
	}
	if res := op.post("/changes/1/confirm", url.Values{"csrf": {op.csrf("/")}}); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/changes/1" {
		t.Errorf("confirm: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	wantStatus(t, op, 1, db.StatusConfirmed)
	if page := body(op.get("/")); strings.Contains(page, confirmBanner) {
		t.Error("the banner is still shown after the confirmation")
	}
	assertKernel(t, sysctl.Range{Low: 40000, High: 50001})
}
