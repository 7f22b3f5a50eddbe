package web_test

import (
	"net/http"
	"strings"
	"testing"

	"portpanel/auth"
	"portpanel/db"
	"portpanel/sysctl/sysctltest"
)

// A managed file portpanel refuses to edit is refused the same way by the
// preview page, the API's dry run and the apply: the plan says so in its
// type, and every path reads it.
func TestUneditableFileIsRefusedOnEveryPath(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	const refusal = "cannot be edited, so nothing was changed"
	e := newEnv(t, sysctltest.ProcSys())
	junk := "binary\x00junk\n"
	writeByHand(t, e.file, junk)
	op := e.login(t, auth.RoleOperator)
	hdr := e.bearer(t, "robot", auth.RoleOperator)

	res := op.post("/changes", changeForm(op.csrf("/"), "40000", "50001", "preview"))
	if page := body(res); res.StatusCode != http.StatusUnprocessableEntity || !mentions(page, refusal) {
		t.Errorf("preview page: %d, want 422 naming the refusal\n%s", res.StatusCode, page)
	}
	res = op.postJSON("/api/v1/changes", `{"low":40000,"high":50001,"reason":"plan","dry_run":true}`, hdr.Clone())
	if out := decode[apiError](t, res); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(out.Error, refusal) || out.Change != nil {
		t.Errorf("dry run: %d %+v, want 422 naming the refusal", res.StatusCode, out)
	}
	assertUnchanged(t, e, op, hdr, &junk, "after the previews")

	// The apply records the attempt as failed, so the audit log shows it.
	res = op.postJSON("/api/v1/changes", `{"low":40000,"high":50001,"reason":"apply"}`, hdr.Clone())
	out := decode[apiError](t, res)
	if res.StatusCode != http.StatusInternalServerError || !strings.Contains(out.Error, refusal) ||
		out.Change == nil || out.Change.Status != db.StatusFailed {
		t.Errorf("apply: %d %+v, want 500 with the failed change", res.StatusCode, out)
	}
	assertKernel(t, kernelDefault)
	if got := fileContent(t, e.file); got != junk {
		t.Errorf("file = %q, want it untouched", got)
	}
}
