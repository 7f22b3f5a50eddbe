package web_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"portpanel/auth"
	"portpanel/db"
	"portpanel/sysctl"
	"portpanel/sysctl/sysctltest"
)

var kernelDefault = sysctl.Range{Low: 32768, High: 60999}

// changeForm is the dashboard's change form as a browser submits it.
func changeForm(csrf, low, high, reason string) url.Values {
	return url.Values{"low": {low}, "high": {high}, "reason": {reason}, "confirm_within": {"0"},
		"base_low": {"32768"}, "base_high": {"60999"}, "csrf": {csrf}}
}

func with(form url.Values, kv ...string) url.Values {
	f := maps.Clone(form)
	for i := 0; i+1 < len(kv); i += 2 {
		f.Set(kv[i], kv[i+1])
	}
	return f
}

func TestFormReviewsBeforeItApplies(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	e := newEnv(t, sysctltest.ProcSys())
	op := e.login(t, auth.RoleOperator)
	form := changeForm(op.csrf("/"), "40000", "50001", "review first")

	res := op.post("/changes", form)
	review := body(res)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("POST /changes without confirm: %d, want 200 with the review page\n%s", res.StatusCode, review)
	}
	if !mentions(review, "+"+rangeLine("40000", "50001")) {
		t.Errorf("the review page does not show the diff:\n%s", review)
	}
	baseFile := hiddenInput(t, review, "base_file")
	if baseFile == "" {
		t.Error("the review page's base_file is empty: a file edited meanwhile would go unnoticed")
	}
	assertUnchanged(t, e, op, nil, nil, "after the review")

	res = op.post("/changes", with(form, "edit", "yes"))
	if page := body(res); res.StatusCode != http.StatusOK || !strings.Contains(page, `action="/changes"`) || !strings.Contains(page, `"40000"`) {
		t.Errorf("edit=yes: %d, want the form again with the values entered", res.StatusCode)
	}
	assertUnchanged(t, e, op, nil, nil, "after edit=yes")

	res = op.post("/changes", with(form, "confirm", "yes", "base_file", baseFile))
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/changes/1" {
		t.Fatalf("confirm: %d to %q, want 303 to /changes/1\n%s", res.StatusCode, res.Header.Get("Location"), body(res))
	}
	assertKernel(t, sysctl.Range{Low: 40000, High: 50001})
	if f := fileContent(t, e.file); !strings.Contains(f, rangeLine("40000", "50001")) {
		t.Errorf("the file after confirm:\n%s", f)
	}
	list := apiChanges(t, op, nil)
	if len(list) != 1 || list[0].Status != db.StatusApplied || list[0].Diff == "" || !mentions(review, list[0].Diff) {
		t.Errorf("changes = %+v; want one applied change whose diff is the one reviewed", list)
	}
}

var startOver = regexp.MustCompile(`<a [^>]*href="/"[^>]*>\s*Start a new change from the current state\s*</a>`)

func TestFormConfirmOnAStaleBaseIsRefused(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	e := newEnv(t, sysctltest.ProcSys())
	op := e.login(t, auth.RoleOperator)
	form := changeForm(op.csrf("/"), "40000", "50001", "stale")

	// The file is edited by hand between review and confirm.
	baseFile := hiddenInput(t, body(op.post("/changes", form)), "base_file")
	byHand := "# tuned by hand\nnet.core.somaxconn = 1024\n"
	writeByHand(t, e.file, byHand)
	res := op.post("/changes", with(form, "confirm", "yes", "base_file", baseFile))
	page := body(res)
	if res.StatusCode != http.StatusConflict || !startOver.MatchString(page) || !mentions(page, "changed since you reviewed") {
		t.Errorf("confirm after a hand edit: %d, want 409 saying so, with a link to start over\n%s", res.StatusCode, page)
	}
	assertUnchanged(t, e, op, nil, &byHand, "after a refused confirm")

	// The kernel is changed by hand between review and confirm.
	baseFile = hiddenInput(t, body(op.post("/changes", form)), "base_file")
	writeKernelByHand(t, "33000", "60999")
	res = op.post("/changes", with(form, "confirm", "yes", "base_file", baseFile))
	page = body(res)
	if res.StatusCode != http.StatusConflict || !startOver.MatchString(page) || !mentions(page, "running range is now 33000–60999") {
		t.Errorf("confirm after sysctl -w: %d, want 409 naming the running range, with a link to start over\n%s", res.StatusCode, page)
	}
	assertKernel(t, sysctl.Range{Low: 33000, High: 60999})
	if list := apiChanges(t, op, nil); len(list) != 0 {
		t.Errorf("a refused confirm recorded changes: %+v", list)
	}
}

// assertUnchanged checks kernel, file (nil: absent) and the change list
// (read as c with hdr).
func assertUnchanged(t *testing.T, e *env, c *client, hdr http.Header, file *string, when string) {
	t.Helper()
	assertKernel(t, kernelDefault)
	want := "<absent>"
	if file != nil {
		want = *file
	}
	if got := fileContent(t, e.file); got != want {
		t.Errorf("%s the file is\n%s\nwant\n%s", when, got, want)
	}
	if list := apiChanges(t, c, hdr); len(list) != 0 {
		t.Errorf("%s there are changes: %+v", when, list)
	}
}

type previewOut struct {
	DryRun           bool `json:"dry_run"`
	Before, After    struct{ Low, High int }
	SizeBefore       int      `json:"size_before"`
	SizeAfter        int      `json:"size_after"`
	Warnings         []string `json:"warnings"`
	Notes            []string `json:"notes"`
	File             string   `json:"file"`
	Diff             string   `json:"diff"`
	FileState        string   `json:"file_state"`
	RequiresApproval bool     `json:"requires_approval"`
}

func TestDryRunShowsTheDiffTheApplyStores(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	e := newEnv(t, sysctltest.ProcSys())
	hdr := e.bearer(t, "robot", auth.RoleOperator)
	c := e.client(t)
	events, _ := e.h.DB.Audit(t.Context(), 1000, 0)

	res := c.postJSON("/api/v1/changes", `{"low":40000,"high":50001,"reason":"plan","dry_run":true}`, hdr.Clone())
	raw := body(res)
	var pv previewOut
	if res.StatusCode != http.StatusOK || json.Unmarshal([]byte(raw), &pv) != nil {
		t.Fatalf("dry run: %d %s", res.StatusCode, raw)
	}
	if !pv.DryRun || pv.Before.Low != 32768 || pv.After.Low != 40000 || pv.After.High != 50001 || pv.SizeBefore != 28232 ||
		pv.SizeAfter != 10002 || pv.File != e.file || !strings.Contains(pv.Diff, "+"+rangeLine("40000", "50001")) ||
		pv.FileState == "" || pv.RequiresApproval || !strings.Contains(raw, `"warnings":[`) || !strings.Contains(raw, `"notes":[`) {
		t.Errorf("dry run = %s", raw)
	}
	assertUnchanged(t, e, c, hdr, nil, "after a dry run")
	if after, _ := e.h.DB.Audit(t.Context(), 1000, 0); len(after) != len(events) {
		t.Errorf("a dry run wrote %d audit events", len(after)-len(events))
	}

	res = c.postJSON("/api/v1/changes", `{"low":40000,"high":50001,"reason":"plan","dry_run":true,"base":{"low":33000,"high":60999}}`, hdr.Clone())
	if out := decode[apiError](t, res); res.StatusCode != http.StatusConflict || !strings.Contains(out.Error, "running range is now 32768–60999") {
		t.Errorf("dry run on a stale base: %d %q, want 409", res.StatusCode, out.Error)
	}

	payload := fmt.Sprintf(`{"low":40000,"high":50001,"reason":"plan","base":{"low":32768,"high":60999,"file_state":%q}}`, pv.FileState)
	res = c.postJSON("/api/v1/changes", payload, hdr.Clone())
	applied := decode[changeOut](t, res)
	if res.StatusCode != http.StatusCreated || applied.Status != db.StatusApplied {
		t.Fatalf("apply: %d %+v", res.StatusCode, applied)
	}
	if stored := apiChange(t, c, hdr, applied.ID); stored.Diff != pv.Diff || applied.Diff != pv.Diff ||
		stored.FileStateBefore != pv.FileState || !slices.Equal(stored.Notes, pv.Notes) || !slices.Equal(stored.Warnings, pv.Warnings) {
		t.Errorf("stored change %+v\ndoes not match its dry run %+v", stored, pv)
	}
	assertKernel(t, sysctl.Range{Low: 40000, High: 50001})

	// The file state of the dry run is now stale: the apply wrote the file.
	res = c.postJSON("/api/v1/changes", fmt.Sprintf(`{"low":41000,"high":50001,"reason":"x","base":{"file_state":%q}}`, pv.FileState), hdr.Clone())
	if out := decode[apiError](t, res); res.StatusCode != http.StatusConflict || !strings.Contains(out.Error, "changed since you reviewed") {
		t.Errorf("apply on a stale file_state: %d %q, want 409", res.StatusCode, out.Error)
	}
	assertKernel(t, sysctl.Range{Low: 40000, High: 50001})
}

// TestConcurrentChangesFromOneBaseApplyExactlyOne is the acceptance test:
// changes based on the same value race, one wins, the others are stale.
func TestConcurrentChangesFromOneBaseApplyExactlyOne(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	e := newEnv(t, sysctltest.ProcSys())
	const n = 8
	hdrs := make([]http.Header, n)
	reqs := make([]*http.Request, n)
	for i := range n {
		hdrs[i] = e.bearer(t, fmt.Sprintf("robot%d", i), auth.RoleOperator)
		reqs[i] = jsonRequest(t, e, "/api/v1/changes",
			fmt.Sprintf(`{"low":%d,"high":50001,"reason":"race %d","base":{"low":32768,"high":60999}}`, 40000+2*i, i), hdrs[i])
	}
	results := fireTogether(reqs)

	var winners []int
	for i, r := range results {
		switch {
		case r.err != nil:
			t.Errorf("request %d: %v", i, r.err)
		case r.status == http.StatusCreated:
			winners = append(winners, i)
		case r.status != http.StatusConflict || !strings.Contains(r.body, "running range is now"):
			t.Errorf("request %d: %d %s, want 201 or 409 stale", i, r.status, r.body)
		}
	}
	if len(winners) != 1 {
		t.Fatalf("%d requests applied, want exactly 1: %+v", len(winners), results)
	}
	var won changeOut
	if err := json.Unmarshal([]byte(results[winners[0]].body), &won); err != nil || won.Low != 40000+2*winners[0] || won.Before.Low != 32768 {
		t.Fatalf("winner = %+v, %v", won, err)
	}
	low := fmt.Sprint(won.Low)
	for i, r := range results {
		if r.status == http.StatusConflict && !strings.Contains(r.body, "running range is now "+low+"–50001") {
			t.Errorf("request %d's 409 does not name the value that won: %s", i, r.body)
		}
	}
	assertKernel(t, sysctl.Range{Low: won.Low, High: 50001})
	if f := fileContent(t, e.file); !strings.Contains(f, rangeLine(low, "50001")) || strings.Count(f, "ip_local_port_range") != 1 {
		t.Errorf("the file does not agree with the kernel:\n%s", f)
	}
	c := e.client(t)
	if list := apiChanges(t, c, hdrs[0]); len(list) != 1 || list[0].ID != won.ID || list[0].Status != db.StatusApplied {
		t.Errorf("changes = %+v, want only the winner, applied", list)
	}
	if _, err := e.h.DB.VerifyAudit(t.Context()); err != nil {
		t.Errorf("audit chain: %v", err)
	}
	events, _ := e.h.DB.Audit(t.Context(), 1000, 0)
	applied := 0
	for _, ev := range events {
		if ev.Action == "change.applied" {
			applied++
		}
	}
	if applied != 1 {
		t.Errorf("%d change.applied events, want 1", applied)
	}
}
