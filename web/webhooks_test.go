package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"portpanel/auth"
	"portpanel/internal/hooktest"
	"portpanel/sysctl/sysctltest"
	"portpanel/webhook"
)

// hooked is e with the webhook notifier on its database and a sender that
// may call loopback (--webhook-allow-private), as serve wires them.
func hooked(t *testing.T, e *env) *webhook.Sender {
	t.Helper()
	e.h.DB.SetNotifier(webhook.Notifier("testhost"))
	s := webhook.NewSender(e.h.DB, webhook.Policy{AllowPrivate: true})
	s.Retry = webhook.Retry{First: 10 * time.Millisecond, Max: 10 * time.Millisecond}
	e.h.Webhooks = s
	return s
}

type webhookOut struct {
	ID      int64    `json:"id"`
	URL     string   `json:"url"`
	Events  []string `json:"events"`
	Secret  *string  `json:"secret"`
	Pending int      `json:"pending"`
}

// TestWebhooksFireFromTheChangeWorkflow drives the real workflow through
// the API (apply, roll back, a failed apply, propose, approve, reject, a
// commit-confirmed deadline, drift, the test button) and checks that a
// real receiver gets exactly those event types, in order, each signed
// with the secret the API showed once.
func TestWebhooksFireFromTheChangeWorkflow(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	e := newEnv(t, sysctltest.ProcSys())
	sender := hooked(t, e)
	admin := e.login(t, auth.RoleAdmin)
	adminAPI := admin.apiHeader()
	op := e.bearer(t, "robot", auth.RoleOperator)
	approver := e.bearer(t, "carol", auth.RoleApprover)
	rcv, err := hooktest.Start("")
	if err != nil {
		t.Fatal(err)
	}
	defer rcv.Close()

	res := admin.postJSON("/api/v1/webhooks", `{"url":"`+rcv.URL+`","events":`+jsonList(webhook.Events)+`}`, adminAPI.Clone())
	created := decode[webhookOut](t, res)
	if res.StatusCode != http.StatusCreated || created.Secret == nil || webhook.CheckSecret(*created.Secret) != "" {
		t.Fatalf("create endpoint: %d %+v, want 201 with a whsec_ secret", res.StatusCode, created)
	}
	rcv.SetSecret(*created.Secret)
	if got := body(admin.get("/api/v1/webhooks/1")); strings.Contains(got, *created.Secret) || strings.Contains(got, `"secret"`) {
		t.Errorf("GET /api/v1/webhooks/1 shows the secret:\n%s", got)
	}

	call := func(path, payload string, hdr http.Header, want int) {
		t.Helper()
		if res := admin.postJSON(path, payload, hdr.Clone()); res.StatusCode != want {
			t.Fatalf("POST %s: %d, want %d\n%s", path, res.StatusCode, want, body(res))
		}
	}
	call("/api/v1/changes", `{"low":20000,"high":40000,"reason":"more"}`, op, http.StatusCreated)
	call("/api/v1/changes/1/rollback", `{"reason":"undo"}`, op, http.StatusCreated)
	writeByHand(t, e.file, "binary\x00junk\n")
	call("/api/v1/changes", `{"low":20000,"high":40000,"reason":"will fail"}`, op, http.StatusInternalServerError)
	if err := os.Remove(e.file); err != nil {
		t.Fatal(err)
	}
	e.h.Changes.RequireApproval = true
	call("/api/v1/changes", `{"low":21000,"high":40000,"reason":"please"}`, op, http.StatusAccepted)
	call("/api/v1/changes/4/approve", `{}`, approver, http.StatusOK)
	call("/api/v1/changes", `{"low":22000,"high":40000,"reason":"again"}`, op, http.StatusAccepted)
	call("/api/v1/changes/5/reject", `{"reason":"no"}`, approver, http.StatusOK)
	e.h.Changes.RequireApproval = false
	call("/api/v1/changes", `{"low":23000,"high":40000,"reason":"try","confirm_within":1}`, op, http.StatusCreated)
	time.Sleep(1100 * time.Millisecond)
	if n, err := e.h.Changes.RevertDue(context.Background()); n != 1 || err != nil {
		t.Fatalf("RevertDue = %d, %v; want the unconfirmed change reverted", n, err)
	}
	// By hand, outside portpanel: the kernel no longer has the boot value.
	if err := os.WriteFile(sysctltest.ProcSys()+"/net/ipv4/ip_local_port_range", []byte("30000 50000"), 0); err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second sees the same drift: nothing new
		if drift, err := e.h.Changes.WatchDrift(context.Background()); !drift || err != nil {
			t.Fatalf("WatchDrift = %v, %v; want drift", drift, err)
		}
	}
	res = admin.post("/webhooks/1/test", url.Values{"csrf": {admin.csrf("/webhooks/1")}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("send test: %d\n%s", res.StatusCode, body(res))
	}

	want := []string{webhook.ChangeApplied, webhook.ChangeRolledBack, webhook.ChangeFailed, webhook.ChangeProposed,
		webhook.ChangeApproved, webhook.ChangeApplied, webhook.ChangeProposed, webhook.ChangeRejected,
		webhook.ChangeApplied, webhook.ChangeReverted, webhook.DriftFound, webhook.Test}
	deadline := time.Now().Add(10 * time.Second)
	for len(rcv.Requests()) < len(want) && time.Now().Before(deadline) {
		if _, err := sender.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	got := rcv.Requests()
	var types []string
	ids := map[string]bool{}
	for i, r := range got {
		var b struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal(r.Body, &b); err != nil {
			t.Errorf("request %d: %v\n%s", i+1, err, r.Body)
		}
		types = append(types, b.Type)
		if r.Verified != nil {
			t.Errorf("request %d (%s): %v", i+1, b.Type, r.Verified)
		}
		if ids[r.ID] {
			t.Errorf("request %d (%s) repeats webhook-id %s", i+1, b.Type, r.ID)
		}
		ids[r.ID] = true
	}
	// One Run sends up to four at once: compare as multisets, then the
	// order the outbox gave them (by id).
	if !sameTypes(types, want) {
		t.Errorf("the receiver got\n%v\nwant\n%v", types, want)
	}
	ep := decode[webhookOut](t, admin.get("/api/v1/webhooks/1"))
	if ep.Pending != 0 {
		t.Errorf("%d deliveries still pending", ep.Pending)
	}
}

func sameTypes(got, want []string) bool {
	g, w := slices.Clone(got), slices.Clone(want)
	slices.Sort(g)
	slices.Sort(w)
	return slices.Equal(g, w)
}

func jsonList(s []string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestWebhookPagesAndAPI(t *testing.T) {
	e := newEnv(t, t.TempDir())
	admin := e.login(t, auth.RoleAdmin)
	hdr := admin.apiHeader()

	// Without --webhook-allow-private, loopback is refused on both paths.
	res := admin.postJSON("/api/v1/webhooks", `{"url":"http://127.0.0.1:9/x","events":["change.applied"]}`, hdr.Clone())
	if out := decode[apiError](t, res); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(out.Error, "loopback") {
		t.Errorf("API, loopback endpoint: %d %q, want 422 naming loopback", res.StatusCode, out.Error)
	}
	form := url.Values{"url": {"http://127.0.0.1:9/x"}, "events": {"change.applied"}, "format": {"standard"}, "csrf": {admin.csrf("/webhooks")}}
	res = admin.post("/webhooks", form)
	if page := body(res); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, "loopback") {
		t.Errorf("form, loopback endpoint: %d, want 422 naming loopback", res.StatusCode)
	}

	hooked(t, e) // --webhook-allow-private
	res = admin.post("/webhooks", form)
	page := body(res)
	secret := regexpFind(page, `data-testid="secret"[^>]*value="(whsec_[^"]+)"|value="(whsec_[^"]+)"[^>]*data-testid="secret"`)
	if res.StatusCode != http.StatusCreated || secret == "" || res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("form, create: %d (Cache-Control %q), want 201 no-store with the secret\n%s", res.StatusCode, res.Header.Get("Cache-Control"), page)
	}
	for _, p := range []string{"/webhooks", "/webhooks/1", "/api/v1/webhooks", "/api/v1/webhooks/1", "/audit", "/api/v1/audit"} {
		if got := body(admin.get(p)); strings.Contains(got, secret) || strings.Contains(got, secret[6:]) {
			t.Errorf("%s shows the secret", p)
		}
	}

	patch := hdr.Clone()
	patch.Set("Content-Type", "application/json")
	res = admin.do(http.MethodPatch, "/api/v1/webhooks/1", patch,
		strings.NewReader(`{"events":["risk.critical","change.failed"],"enabled":false}`))
	if out := decode[webhookOut](t, res); res.StatusCode != http.StatusOK || strings.Join(out.Events, " ") != "change.failed risk.critical" {
		t.Errorf("PATCH: %d %+v, want 200 with the events in catalog order", res.StatusCode, out)
	}
	res = admin.post("/webhooks/1/test", url.Values{"csrf": {admin.csrf("/webhooks/1")}})
	if res.StatusCode != http.StatusSeeOther {
		t.Errorf("send test: %d, want 303", res.StatusCode)
	}
	if page := body(admin.get("/webhooks/1")); !strings.Contains(page, "webhook.test") || !strings.Contains(page, "waiting") {
		t.Errorf("the endpoint's page does not list the waiting test delivery")
	}
	res = admin.do(http.MethodDelete, "/api/v1/webhooks/1", hdr.Clone(), nil)
	if res.StatusCode != http.StatusNoContent {
		t.Errorf("DELETE: %d, want 204", res.StatusCode)
	}
	if res := admin.get("/webhooks/1"); res.StatusCode != http.StatusNotFound {
		t.Errorf("deleted endpoint's page: %d, want 404", res.StatusCode)
	}
	audit := body(admin.get("/api/v1/audit"))
	for _, a := range []string{"webhook.created", "webhook.updated", "webhook.tested", "webhook.deleted"} {
		if !strings.Contains(audit, a) {
			t.Errorf("the audit log lacks %s", a)
		}
	}
}

// regexpFind returns the first non-empty group of pattern's first match.
func regexpFind(s, pattern string) string {
	m := regexp.MustCompile(pattern).FindStringSubmatch(s)
	for _, g := range m[min(1, len(m)):] {
		if g != "" {
			return g
		}
	}
	return ""
}
