package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"portpanel/sysctl/sysctltest"
)

// xssPayloads would each set window.__xss and open a dialog if the browser
// ever ran them: as markup in text, breaking out of an attribute, as a URL,
// or as a client-side template.
var xssPayloads = []string{
	`<script>window.__xss=1;alert(1)</script>`,
	`"><img src=x onerror="window.__xss=1;alert(1)">`,
	`javascript:window.__xss=1;alert(1)`,
	`<svg onload="window.__xss=1;alert(1)">`,
	`'><iframe srcdoc="<script>parent.__xss=1;alert(1)</script>"></iframe>`,
	`</textarea></title><script>window.__xss=1;alert(1)</script>`,
	`<a href="javascript:window.__xss=1;alert(1)" id="xss-link">x</a>`,
	`{{constructor.constructor('window.__xss=1;alert(1)')()}}`,
}

// xssWatch records what would show that a payload ran: JavaScript dialogs
// (dismissed at once so the page goes on) and the Content-Security-Policy
// header of every page loaded.
type xssWatch struct {
	b       *e2eBrowser
	mu      sync.Mutex
	dialogs []string
	csp     map[string]string // page path → the header
}

func watchXSS(b *e2eBrowser) *xssWatch {
	w := &xssWatch{b: b, csp: map[string]string{}}
	dialogs := chromedp.Events(b.ctx, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			w.mu.Lock()
			w.dialogs = append(w.dialogs, fmt.Sprintf("%s %q on %s", ev.Type, ev.Message, ev.URL))
			w.mu.Unlock()
			chromedp.Call(b.ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		}
	}()
	if err := chromedp.Listen(b.ctx, func(ev any) {
		r, ok := ev.(*network.EventResponseReceived)
		if !ok || r.Type != network.ResourceTypeDocument || r.Response == nil {
			return
		}
		u, err := url.Parse(r.Response.URL)
		if err != nil {
			return
		}
		v := ""
		for k, h := range r.Response.Headers {
			if strings.EqualFold(k, "Content-Security-Policy") {
				v = fmt.Sprint(h)
			}
		}
		w.mu.Lock()
		w.csp[u.Path] = v
		w.mu.Unlock()
	}); err != nil {
		b.t.Fatalf("listen to the browser: %v", err)
	}
	return w
}

// inert checks the page now shown: no dialog opened and no payload ran or
// left an element behind, the page came with a CSP that allows no inline
// script, and each of visible is on the page as text.
func (w *xssWatch) inert(what string, visible ...string) {
	b := w.b
	b.t.Helper()
	if eval[bool](b, `typeof window.__xss !== "undefined" || typeof parent.__xss !== "undefined"`) {
		b.fatalf("%s: a payload ran (window.__xss is set)", what)
	}
	if n := eval[int](b, `document.querySelectorAll('img[src="x"], svg[onload], iframe[srcdoc], #xss-link, [onerror], [onload]').length`); n > 0 {
		b.fatalf("%s: %d elements of a payload are in the page's DOM", what, n)
	}
	w.mu.Lock()
	dialogs := append([]string(nil), w.dialogs...)
	csp, seen := w.csp[b.location().Path]
	w.mu.Unlock()
	if len(dialogs) > 0 {
		b.fatalf("%s: JavaScript dialogs opened: %q", what, dialogs)
	}
	if !seen || !strings.Contains(csp, "default-src 'self'") || strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		b.fatalf("%s: the page's Content-Security-Policy is %q (seen %v), want default-src 'self' without unsafe-inline or unsafe-eval", what, csp, seen)
	}
	text := eval[string](b, `document.body.innerText`)
	for _, v := range visible {
		if !strings.Contains(text, v) {
			b.fatalf("%s: the page does not show %q as text", what, v)
		}
	}
}

// TestBrowserXSS puts XSS payloads everywhere text typed by someone is
// shown again (change reasons applied through the API and typed into the
// form, reject reasons, approval notes, API token names, user names (which
// the name rule refuses, and the form echoes), list filters, the user name
// the sign-in form echoes, the page to go to after sign-in) and then opens
// every page that shows them in headless Chromium: no dialog opens, no
// script runs, each payload reads as text, and every page has the CSP.
// Approving applies changes, so it runs in a private network namespace.
func TestBrowserXSS(t *testing.T) {
	chromium := findChromium(t)
	if !sysctltest.InNetns(t) {
		return
	}
	host := newHost(t)
	srv := startServer(t, host, "--require-approval")
	b := newBrowser(t, chromium, srv, 240*time.Second)
	w := watchXSS(b)

	b.open(srv.setupURL, "/setup")
	b.typeInto("#username", e2eUser)
	b.typeInto("#password", e2ePassword)
	b.typeInto("#password2", e2ePassword)
	b.submit(`[data-testid="setup-form"] button[type="submit"]`, "/")
	srv.addUser(approverName, "approver", approverPassword)
	adminToken, approverToken := srv.createToken(e2eUser), srv.createToken(approverName)

	// One proposal through the form, left pending; the review page shows
	// its reason before anything is submitted.
	pending := xssPayloads[0]
	b.typeInto("#low", "39000")
	b.typeInto("#high", "50001")
	b.typeInto("#reason", pending)
	b.submit(`[data-testid="change-form"] [data-testid="review"]`, "/changes")
	w.inert("the review page", pending)
	b.wantText(`[data-testid="review-reason"]`, squash(pending))
	pendingPath := b.submitAcknowledging(`[data-testid="confirm-change"]`, `/changes/\d+`)
	w.inert("the proposal's page", pending)

	// Through the API: proposals approved (with a note) and applied, or
	// rejected with a reason, each carrying a payload.
	type shown struct{ path, reason, decision string }
	var changes []shown
	for i, p := range xssPayloads {
		var out struct {
			ID int64 `json:"id"`
		}
		reason, _ := json.Marshal(p)
		status, raw := srv.api(http.MethodPost, "/api/v1/changes", adminToken,
			fmt.Sprintf(`{"low":%d,"high":50001,"reason":%s,%s}`, 40000+i, reason, allHazards), &out)
		if status != http.StatusAccepted {
			t.Fatalf("propose with the reason %q: %d %s", p, status, raw)
		}
		id := strconv.FormatInt(out.ID, 10)
		decide, ack := "/reject", ""
		if i%2 == 0 {
			decide, ack = "/approve", ","+allHazards
		}
		if status, raw := srv.api(http.MethodPost, "/api/v1/changes/"+id+decide, approverToken, `{"reason":`+string(reason)+ack+`}`, nil); status != http.StatusOK {
			t.Fatalf("%s change %s: %d %s", decide, id, status, raw)
		}
		changes = append(changes, shown{"/changes/" + id, p, p})
	}

	for _, c := range changes {
		b.open(c.path, c.path)
		w.inert(c.path, c.reason)
		b.wantText(`[data-testid="reason"]`, squash(c.reason))
		b.wantText(`[data-testid="decision-reason"]`, squash(c.decision))
	}
	b.open(pendingPath, pendingPath)
	w.inert(pendingPath, pending)
	for _, p := range []string{"/", "/changes", "/audit", "/changes/pending", "/history", "/account"} {
		b.open(p, p)
		var want []string
		switch p {
		case "/audit", "/changes":
			want = xssPayloads
		case "/changes/pending":
			want = []string{pending}
		}
		w.inert(p, want...)
	}

	// Token names are listed as typed; user names never pass the name rule,
	// and the form shows back what was sent (set by script: the field's
	// maxlength would cut it, a crafted request would not).
	for _, p := range xssPayloads {
		b.open("/tokens", "/tokens")
		b.typeInto("#token-name", p)
		if status := b.load("create the token "+p, chromedp.Click(chromedp.CSS(`[data-testid="create-token"]`), chromedp.NodeVisible)); status != http.StatusCreated {
			b.fatalf("create a token named %q: status %d, want 201", p, status)
		}
		w.inert("the new token "+p, p)
		b.open("/users", "/users")
		if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`document.querySelector("#new-username").value = `+strconv.Quote(p)+`, true`)); err != nil {
			b.fatalf("set the user name: %v", err)
		}
		b.typeInto("#new-password", "a long first password 42")
		b.typeInto("#new-password2", "a long first password 42")
		if status := b.load("add the user "+p, chromedp.Click(chromedp.CSS(`[data-testid="create-user"]`), chromedp.NodeVisible)); status != http.StatusUnprocessableEntity {
			b.fatalf("add a user named %q: status %d, want 422 (the name rule)", p, status)
		}
		w.inert("the user form after the name "+p, "lower-case letters")
		b.wantValue("#new-username", p)
	}
	b.open("/tokens", "/tokens")
	w.inert("/tokens", xssPayloads...)
	b.open("/users", "/users")
	w.inert("/users")
	b.open("/audit", "/audit")
	w.inert("/audit after the tokens")

	// List filters show what was typed: in the form, or in the error.
	for _, p := range xssPayloads {
		q := url.QueryEscape(p)
		b.open("/audit?user="+q, "/audit")
		w.inert("/audit filtered by user " + p)
		b.wantValue("#filter-user", p)
		b.openStatus("/changes?from="+q, "/changes", http.StatusBadRequest)
		w.inert("/changes with from="+p, "from must be a date")
	}

	// The sign-in form echoes the name typed; next= is never followed off
	// the site or into a javascript: URL.
	b.signOut()
	for _, p := range xssPayloads {
		b.typeInto("#username", p)
		b.typeInto("#password", "not the password")
		status := b.load("sign in as "+p, chromedp.Click(chromedp.CSS(`[data-testid="login-form"] button[type="submit"]`), chromedp.NodeVisible))
		if status != http.StatusUnauthorized {
			b.fatalf("sign in as %q: status %d, want 401", p, status)
		}
		w.inert("the sign-in form after a failed sign-in as " + p)
		b.wantValue("#username", p)
	}
	for _, next := range []string{"javascript:window.__xss=1;alert(1)", "//evil.example/", "/\\evil.example", "data:text/html,<script>alert(1)</script>"} {
		b.open("/login?next="+url.QueryEscape(next), "/login")
		w.inert("the sign-in form with next=" + next)
		b.typeInto("#username", e2eUser)
		b.typeInto("#password", e2ePassword)
		b.submit(`[data-testid="login-form"] button[type="submit"]`, "/")
		w.inert("the page after sign-in with next=" + next)
		b.signOut()
	}

	// A CSP violation in the console would be an injected script or handler
	// that reached the DOM and that only the CSP stopped. The 400s and 401s
	// and 422s asked for above are the only errors expected.
	b.console.Lock()
	for _, e := range b.console.errs {
		if !strings.Contains(e, "the server responded with a status of 4") {
			t.Errorf("browser console: %s", e)
		}
	}
	b.console.Unlock()
	srv.wantNoErrors()
}
