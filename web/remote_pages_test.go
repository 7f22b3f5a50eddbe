package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"portpanel/auth"
	"portpanel/db"
)

// The host page's change form, its review (the agent's diff) and its
// apply, as a browser does them; and the same with approval required,
// where the page's proposal passes the same gate as every other path.
func TestRemoteChangeThroughTheHostPage(t *testing.T) {
	e := newEnv(t, t.TempDir())
	sim := e.withFleet(t)
	op := e.loginAs(t, "olga", auth.RoleOperator)
	viewer := e.loginAs(t, "vera", auth.RoleViewer)

	if page := body(viewer.get("/hosts/web-1")); strings.Contains(page, `data-testid="host-change-form"`) {
		t.Error("a viewer is offered the host's change form")
	}
	page := body(op.get("/hosts/web-1"))
	if !strings.Contains(page, `data-testid="host-change-form"`) {
		t.Fatalf("the host page has no change form for an operator:\n%s", page)
	}
	form := changeForm(hiddenInput(t, page, "csrf"), "20000", "60999", "more ports on web-1")
	form.Set("base_generation", hiddenInput(t, page, "base_generation"))
	res := op.post("/hosts/web-1/changes", form)
	review := body(res)
	if res.StatusCode != http.StatusOK || !mentions(review, "Review change on web-1") || !mentions(review, "+net.ipv4.ip_local_port_range = 20000 60999") {
		t.Fatalf("review: %d, want the agent's diff on the review page\n%s", res.StatusCode, review)
	}
	if sim.runtime.Low != 32768 {
		t.Fatal("the review changed the host")
	}
	if !strings.Contains(review, `action="/hosts/web-1/changes"`) {
		t.Errorf("the review's forms do not post to the host's route:\n%s", review)
	}
	res = op.post("/hosts/web-1/changes", with(form, "confirm", "yes", "base_file", hiddenInput(t, review, "base_file"),
		"base_generation", hiddenInput(t, review, "base_generation")))
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/changes/1" {
		t.Fatalf("apply: %d to %q\n%s", res.StatusCode, res.Header.Get("Location"), body(res))
	}
	if sim.runtime.Low != 20000 {
		t.Errorf("after apply the host's range is %v", sim.runtime)
	}
	if page := body(op.get("/changes/1")); !strings.Contains(page, `data-testid="change-host"`) || !mentions(page, "Applied on web-1") {
		t.Errorf("the change page does not name the host or say it was applied there:\n%s", page)
	}
	// The same form again is stale: the host moved on.
	res = op.post("/hosts/web-1/changes", with(form, "confirm", "yes", "base_file", hiddenInput(t, review, "base_file")))
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/hosts/web-1" {
		t.Errorf("a stale form: %d to %q, want back to the host page", res.StatusCode, res.Header.Get("Location"))
	} else if page := body(op.get("/hosts/web-1")); !mentions(page, "Not changed") {
		t.Errorf("the host page does not say why nothing changed:\n%s", page)
	}

	// With approval required the page's change is a proposal that its
	// author cannot approve and an approver can.
	e.h.Changes.RequireApproval = true
	page = body(op.get("/hosts/web-1"))
	form = changeForm(hiddenInput(t, page, "csrf"), "21000", "60999", "a little fewer")
	form.Set("base_low", "20000")
	form.Set("base_generation", hiddenInput(t, page, "base_generation"))
	review = body(op.post("/hosts/web-1/changes", form))
	res = op.post("/hosts/web-1/changes", with(form, "confirm", "yes", "base_file", hiddenInput(t, review, "base_file")))
	loc := res.Header.Get("Location")
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/changes/") {
		t.Fatalf("propose: %d to %q\n%s", res.StatusCode, loc, body(res))
	}
	var id int64
	fmt.Sscanf(loc, "/changes/%d", &id)
	wantStatus(t, op, id, db.StatusProposed)
	if sim.runtime.Low != 20000 {
		t.Fatal("a proposal reached the host")
	}
	op.post(fmt.Sprintf("/changes/%d/approve", id), with(form, "csrf", op.csrf("/")))
	wantStatus(t, op, id, db.StatusProposed)
	anna := e.loginAs(t, "anna", auth.RoleApprover)
	anna.post(fmt.Sprintf("/changes/%d/approve", id), with(form, "csrf", anna.csrf("/")))
	wantStatus(t, op, id, db.StatusApplied)
	if page := body(anna.get(fmt.Sprintf("/changes/%d", id))); !mentions(page, "Approved. Applied on web-1") {
		t.Errorf("the approver is not told the change was applied on web-1:\n%s", page)
	}
	if sim.runtime.Low != 21000 {
		t.Errorf("after approval the host's range is %v", sim.runtime)
	}
}
