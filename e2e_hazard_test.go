package main

import (
	"net"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"portpanel/sysctl/sysctltest"
)

// allHazards acknowledges every hazard code in an API request of a test
// that is not about hazards: the test's own sockets (the server's port,
// Chromium's, the browser's connections) can make its change hazardous,
// differently from run to run.
const allHazards = `"acknowledge":["small-range","below-busiest","listener-in-range","connections-outside"]`

// allHazardCodes is allHazards for a request built as a map.
var allHazardCodes = []string{"small-range", "below-busiest", "listener-in-range", "connections-outside"}

// tickHazards ticks every hazard checkbox on the page.
func (b *e2eBrowser) tickHazards() {
	b.t.Helper()
	eval[bool](b, `(document.querySelectorAll('input[name="acknowledge"]').forEach(c => { c.checked = true }), true)`)
}

// submitAcknowledging is submit for a test that is not about hazards: it
// ticks whatever hazards the review page lists, and again if the server
// answers that more appeared since the page was made (the browser's own
// connections come and go).
func (b *e2eBrowser) submitAcknowledging(button, wantPath string) string {
	b.t.Helper()
	for range 3 {
		b.tickHazards()
		status := b.load("click "+button, chromedp.Click(chromedp.CSS(button), chromedp.NodeVisible))
		if status == 422 && len(b.texts(`[data-testid="hazard-error"]`)) > 0 {
			b.expectedRefusal()
			continue
		}
		path := b.location().Path
		if status != 200 || !regexp.MustCompile("^"+wantPath+"$").MatchString(path) {
			b.fatalf("click %s: landed on %s with status %d, want %s and 200", button, path, status, wantPath)
		}
		return path
	}
	b.fatalf("click %s: hazards still unacknowledged after three rounds", button)
	return ""
}

// expectedRefusal takes the 422 of a refused apply out of the browser
// console's errors: Chromium reports every 4xx page it loads, and this one
// was the point. The report arrives on its own, so it waits a little for it.
func (b *e2eBrowser) expectedRefusal() {
	refusal := func(e string) bool {
		return strings.Contains(e, "the server responded with a status of 422") && strings.Contains(e, "/changes:")
	}
	for range 100 {
		b.console.Lock()
		n := len(b.console.errs)
		b.console.errs = slices.DeleteFunc(b.console.errs, refusal)
		found := len(b.console.errs) < n
		b.console.Unlock()
		if found {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// approveAcknowledging approves with button (on the pending list or the
// change page), acknowledging on the change page whatever hazards
// appeared since the proposal, as an approver would.
func (b *e2eBrowser) approveAcknowledging(button, changePath string) {
	b.t.Helper()
	b.submit(button, changePath)
	for range 3 {
		if len(b.texts(`[data-testid="change-hazards"] input[name="acknowledge"]`)) == 0 ||
			!strings.HasPrefix(b.one(`[data-testid="flash"]`), "✗ Not approved") {
			return
		}
		b.tickHazards()
		b.submit(`[data-testid="approve"]`, changePath)
	}
}

// hazardsNoted is how the audit detail of the change on the page names
// its hazards ("" when none), for tests that are not about hazards: which
// ones depends on the test's own sockets.
func (b *e2eBrowser) hazardsNoted() string {
	b.t.Helper()
	all := eval[[]string](b, `Array.from(document.querySelectorAll('[data-testid="change-hazard"]'), e => e.dataset.code)`)
	acked := eval[[]string](b, `Array.from(document.querySelectorAll('[data-testid="change-hazard"]'),
		e => e.querySelector('[data-testid="acknowledged"]') ? e.dataset.code : "").filter(c => c)`)
	switch {
	case len(b.texts(`[data-testid="rollback-of"]`)) > 0 && len(all) > 0:
		return ", hazards (a rollback is not gated): " + strings.Join(all, ", ")
	case len(acked) > 0:
		return ", hazards acknowledged: " + strings.Join(acked, ", ")
	}
	return ""
}

// TestBrowserHazards: a service listening inside the range a change would
// set shows on the review page with its process, PID and what the port
// usually is, the restart failure and the line that reserves it; the
// change applies only once its hazard checkbox is ticked (the browser
// requires it, and the server too when the browser is bypassed); the
// dashboard then shows the service inside the range in force; rolling
// back needs no acknowledgement and restores kernel and file.
func TestBrowserHazards(t *testing.T) {
	chromium := findChromium(t)
	if !sysctltest.InNetns(t) {
		return
	}
	host := newHost(t)
	// "PostgreSQL": listening before serve starts, so its first scan sees it.
	pg, err := net.Listen("tcp", "127.0.0.1:5432")
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	srv := startServer(t, host)
	b := newBrowser(t, chromium, srv, e2eTimeout)
	const kernelBefore, kernelAfter = "32768\t60999\n", "1024\t65000\n"
	wantState := func(when, kernel, conf string) {
		t.Helper()
		if got := readFile(t, host.kernel); got != kernel {
			b.fatalf("%s the kernel reads %q, want %q", when, got, kernel)
		}
		if got := readFile(t, host.conf); got != conf {
			b.fatalf("%s %s is\n%s\nwant\n%s", when, host.conf, got, conf)
		}
	}
	comm, err := os.ReadFile("/proc/self/comm")
	if err != nil {
		t.Fatal(err)
	}

	b.open(srv.setupURL, "/setup")
	b.typeInto("#username", e2eUser)
	b.typeInto("#password", e2ePassword)
	b.typeInto("#password2", e2ePassword)
	b.submit(`[data-testid="setup-form"] button[type="submit"]`, "/")
	b.wantNone(`[data-testid="listeners"] [data-testid="listener-row"][data-port="5432"]`)

	// 1. The advice found online: widen to 1024-65000.
	b.typeInto("#low", "1024")
	b.typeInto("#high", "65000")
	b.typeInto("#reason", "e2e: the advice found online")
	b.submit(`[data-testid="change-form"] [data-testid="review"]`, "/changes")
	row := `[data-testid="review-listeners"] [data-testid="listener-row"][data-port="5432"]`
	b.wantRow(row, []string{"5432", "tcp", strings.TrimSpace(string(comm)) + " PID " + strconv.Itoa(os.Getpid()), "PostgreSQL", "listening now", "not reserved"})
	b.wantContains(`[data-testid="review-listeners-why"]`, "its bind() fails with EADDRINUSE")
	b.wantMatch(`[data-testid="review-listeners-fix"]`, regexp.MustCompile(`^net\.ipv4\.ip_local_reserved_ports = (\d+,)*5432(,\d+)*$`))
	b.wantContains(`[data-testid="hazard-listener-in-range"]`, "5432/tcp")
	box := `[data-testid="hazards"] input[name="acknowledge"][form="confirm-form"][value="listener-in-range"]`
	if !eval[bool](b, `document.querySelector('`+box+`').required`) {
		b.fatalf("the hazard checkbox is not required")
	}
	b.screenshot("hazard-review")

	// 2. Unticked, the browser does not send the form; sent anyway (the
	// browser's check removed), the server refuses it and changes nothing.
	if eval[bool](b, `document.querySelector('[data-testid="confirm-form"]').checkValidity()`) {
		b.fatalf("the confirm form is valid with the hazard unticked")
	}
	eval[bool](b, `(document.querySelectorAll('input[name="acknowledge"]').forEach(c => { c.checked = false; c.required = false }), true)`)
	status := b.load("apply unacknowledged", chromedp.Click(chromedp.CSS(`[data-testid="confirm-change"]`), chromedp.NodeVisible))
	if status != 422 || b.location().Path != "/changes" {
		b.fatalf("applying with the hazard unticked: status %d on %s, want 422 and the review page again", status, b.location().Path)
	}
	b.wantContains(`[data-testid="hazard-error"]`, "listener-in-range")
	b.expectedRefusal()
	b.screenshot("hazard-refused")
	wantState("after the refused apply", kernelBefore, e2eConf)

	// 3. Ticked, it applies (the browser's own sockets may add hazards of
	// their own, ticked too), and the change keeps the acknowledgement.
	changePath := b.submitAcknowledging(`[data-testid="confirm-change"]`, `/changes/\d+`)
	changeID := strings.TrimPrefix(changePath, "/changes/")
	b.wantText(`[data-testid="status"]`, "✓ applied")
	b.wantContains(`[data-testid="change-hazard"][data-code="listener-in-range"]`, "5432/tcp")
	b.wantText(`[data-testid="change-hazard"][data-code="listener-in-range"] [data-testid="acknowledged"]`, "acknowledged")
	wantState("after the apply", kernelAfter, e2eConf+"net.ipv4.ip_local_port_range = 1024 65000\n")
	b.open("/audit", "/audit")
	b.wantRow(`[data-testid="audit-row"]`, []string{"*", "*", e2eUser, "change.applied", "* listener-in-range*"})

	// 4. The dashboard shows the same for the range in force.
	b.open("/", "/")
	b.wantRow(`[data-testid="listeners"] [data-testid="listener-row"][data-port="5432"]`,
		[]string{"5432", "tcp", "*", "PostgreSQL", "listening now", "not reserved"})
	b.wantContains(`[data-testid="listeners-fix"]`, "5432")
	b.screenshot("hazard-dashboard")

	// 5. Rolling back needs no acknowledgement, whatever it risks now.
	b.open(changePath, changePath)
	rollbackPath := b.submit(`[data-testid="rollback-form"] [data-testid="rollback"]`, `/changes/\d+`)
	b.wantText(`[data-testid="flash"]`, "✓ Rolled back change #"+changeID+": the range is 32768 – 60999 again.")
	if rollbackPath == changePath {
		b.fatalf("the rollback landed on the change it rolled back")
	}
	wantState("after the rollback", kernelBefore, e2eConf)
	b.screenshot("hazard-rollback")
	b.wantNoConsoleErrors()
	srv.wantNoErrors()
}
