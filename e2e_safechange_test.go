package main

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"portpanel/sysctl/sysctltest"
)

const (
	approverName     = "bob"
	approverPassword = "bob's long approver password"
	safeReason       = "e2e: more ports, approved and confirmed"
	revertReason     = "e2e: a change nobody confirms"
)

// changeJSONOut is the part of the API's change object the test reads.
type changeJSONOut struct {
	ID         int64   `json:"id"`
	Status     string  `json:"status"`
	Low        int     `json:"low"`
	High       int     `json:"high"`
	User       string  `json:"user"`
	RollbackOf *int64  `json:"rollback_of"`
	ConfirmBy  *string `json:"confirm_by"`
	DecidedBy  string  `json:"decided_by"`
	Error      string  `json:"error"`
}

// countdownText is what the banner's countdown shows: minutes and seconds.
var countdownText = regexp.MustCompile(`(\d+):(\d\d)`)

// statusIs matches the status pill of a change page, whatever icon it has.
func statusIs(status string) *regexp.Regexp {
	return regexp.MustCompile(`(^|\s)` + regexp.QuoteMeta(status) + `$`)
}

// TestBrowserSafeChange drives the safe way to change the range through
// Chromium, with --require-approval: review before anything changes, a
// proposal that its author cannot approve and a second person (an approver
// added with the CLI) does, the commit-confirmed banner on every page and
// its Confirm button, and an unconfirmed change (proposed and approved
// through the API) that the server reverts at its deadline while the page
// counts down and reloads itself. As TestBrowserEndToEnd, it runs in a
// private network namespace with the config tree in a temp dir.
func TestBrowserSafeChange(t *testing.T) {
	chromium := findChromium(t)
	if !sysctltest.InNetns(t) {
		return
	}
	host := newHost(t)
	kernel, conf := host.kernel, host.conf
	srv := startServer(t, host, "--require-approval")
	// Step 3 waits for a deadline: the session needs longer than the usual.
	b := newBrowser(t, chromium, srv, 150*time.Second)

	wantKernel := func(when, want string) {
		t.Helper()
		if got := readFile(t, kernel); got != want {
			b.fatalf("%s the kernel reads %q, want %q", when, got, want)
		}
	}
	wantConf := func(when, want string) {
		t.Helper()
		if got := readFile(t, conf); got != want {
			b.fatalf("%s %s is\n%s\nwant\n%s", when, conf, got, want)
		}
	}
	const kernelBefore, kernelAfter = "32768\t60999\n", "40000\t50001\n"
	confAfter := e2eConf + "net.ipv4.ip_local_port_range = 40000 50001\n"

	// 1. The first admin fills the form with auto-revert after 2 minutes;
	// the review page shows what will happen and nothing changes.
	b.open(srv.setupURL, "/setup")
	b.typeInto("#username", e2eUser)
	b.typeInto("#password", e2ePassword)
	b.typeInto("#password2", e2ePassword)
	b.submit(`[data-testid="setup-form"] button[type="submit"]`, "/")
	b.wantText(`[data-testid="user"]`, e2eUser+" (admin)")
	b.wantNone(`[data-testid="confirm-banner"]`)
	const confirmWithin = `[data-testid="change-form"] select[name="confirm_within"]`
	if got, want := b.options(confirmWithin), []string{"0", "120", "300", "900", "3600"}; !slices.Equal(got, want) {
		b.fatalf("the auto-revert select offers %q, want %q", got, want)
	}
	b.wantValue(confirmWithin, "0")
	b.typeInto("#low", "40000")
	b.typeInto("#high", "50001")
	b.typeInto("#reason", safeReason)
	b.selectOption(confirmWithin, "120")
	b.submit(`[data-testid="change-form"] [data-testid="review"]`, "/changes")
	b.wantContains(`[data-testid="review-before"]`, "32768 – 60999")
	b.wantContains(`[data-testid="review-after"]`, "40000 – 50001")
	b.wantContains(`[data-testid="review-diff"]`, "\n+net.ipv4.ip_local_port_range = 40000 50001\n")
	b.wantVisible(`[data-testid="review-notes"]`)
	b.wantVisible(`[data-testid="edit-change"]`)
	b.wantText(`[data-testid="confirm-change"]`, "Submit for approval")
	b.screenshot("safe-review")
	wantKernel("on the review page", kernelBefore)
	wantConf("on the review page", e2eConf)

	changePath := b.submitAcknowledging(`[data-testid="confirm-change"]`, `/changes/\d+`)
	changeID := strings.TrimPrefix(changePath, "/changes/")
	b.wantText(`[data-testid="flash"]`, "✓ Change #"+changeID+" is waiting for approval by a second person; nothing was changed yet.")
	b.wantText("h1", "Change #"+changeID)
	b.wantMatch(`[data-testid="status"]`, statusIs("proposed"))
	b.wantText(`[data-testid="after"]`, "40000 – 50001")
	b.wantText(`[data-testid="reason"]`, safeReason)
	b.wantNone(`[data-testid="approve"]`, `[data-testid="confirm-banner"]`)
	b.wantText(`[data-testid="pending-count"]`, "1")
	b.screenshot("safe-proposed")
	wantKernel("after submitting for approval", kernelBefore)
	wantConf("after submitting for approval", e2eConf)

	// 2. Nobody approves their own proposal; the approver does, and the
	// change then waits for confirmation on every page until confirmed.
	b.open("/changes/pending", "/changes/pending")
	proposal := `[data-testid="proposal"]`
	if got := b.texts(proposal); len(got) != 1 || !strings.Contains(got[0], safeReason) {
		b.fatalf("%s on /changes/pending: %q, want one, with the reason %q", proposal, got, safeReason)
	}
	b.wantNone(proposal+` [data-testid="approve"]`, proposal+` [data-testid="reject"]`)
	b.wantVisible(proposal + ` [data-testid="own-proposal"]`)
	b.screenshot("safe-pending-own")
	b.signOut()

	// The approver is added at the shell (after the setup link, which works
	// only while no user exists).
	srv.addUser(approverName, "approver", approverPassword)

	b.signIn(approverName, approverPassword)
	b.wantText(`[data-testid="user"]`, approverName+" (approver)")
	b.open("/changes/pending", "/changes/pending")
	if got := b.texts(proposal); len(got) != 1 || !strings.Contains(got[0], safeReason) {
		b.fatalf("%s on /changes/pending: %q, want one, with the reason %q", proposal, got, safeReason)
	}
	b.wantText(proposal+` [data-testid="proposal-user"]`, e2eUser)
	b.wantVisible(proposal + ` [data-testid="reject"]`)
	b.wantVisible(proposal + ` input[name="reason"]`)
	b.screenshot("safe-pending-approver")
	wantKernel("before the approval", kernelBefore)
	b.approveAcknowledging(proposal+` [data-testid="approve"]`, changePath)
	b.wantText(`[data-testid="flash"]`, "✓ Approved and applied change #"+changeID+": the range is now 40000 – 50001.")
	b.wantMatch(`[data-testid="status"]`, statusIs("applied"))
	b.wantNone(`[data-testid="pending-count"]`)
	wantKernel("after the approval", kernelAfter)
	wantConf("after the approval", confAfter)

	for _, p := range []string{"/", "/changes", "/audit", "/history", "/changes/pending", changePath} {
		b.open(p, p)
		b.wantVisible(`[data-testid="confirm-banner"]`)
		b.wantContains(`[data-testid="confirm-banner"]`, "Change #"+changeID+" (40000 – 50001)")
		b.wantMatch(`[data-testid="confirm-banner"] [data-testid="countdown"]`, countdownText)
		b.wantVisible(`[data-testid="confirm-banner"] [data-testid="confirm-button"]`)
		b.wantVisible(`[data-testid="confirm-banner"] [data-testid="banner-rollback"]`)
		if left := b.countdown(); left > 120 || left < 60 {
			b.fatalf("on %s the countdown shows %ds left of a 2 minute window that began seconds ago", p, left)
		}
	}
	b.screenshot("safe-banner")
	// The page's script counts down every second.
	first := b.countdown()
	b.waitFor("the countdown to tick", fmt.Sprintf(`(() => {
		const m = /(\d+):(\d\d)/.exec(document.querySelector('[data-testid="confirm-banner"] [data-testid="countdown"]').innerText);
		return m !== null && 60 * +m[1] + +m[2] < %d;
	})()`, first), 3*time.Second)

	b.submit(`[data-testid="confirm-banner"] [data-testid="confirm-button"]`, changePath)
	b.wantText(`[data-testid="flash"]`, "✓ Confirmed change #"+changeID+": it stays.")
	b.wantMatch(`[data-testid="status"]`, statusIs("confirmed"))
	b.wantNone(`[data-testid="confirm-banner"]`)
	b.open("/", "/")
	b.wantNone(`[data-testid="confirm-banner"]`)
	b.wantText(`[data-testid="range-value"]`, "40000 – 50001")
	b.screenshot("safe-confirmed")
	wantKernel("after the confirmation", kernelAfter)
	wantConf("after the confirmation", confAfter)

	// 3. A change proposed and approved through the API with a 4 second
	// window: nobody confirms it, the page counts down and reloads, and the
	// server reverts it at the deadline.
	adminToken, approverToken := srv.createToken(e2eUser), srv.createToken(approverName)
	var proposed changeJSONOut
	status, raw := srv.api(http.MethodPost, "/api/v1/changes", adminToken,
		`{"low":42000,"high":52001,"reason":"`+revertReason+`","confirm_within":4,`+allHazards+`}`, &proposed)
	if status != http.StatusAccepted || proposed.Status != "proposed" || proposed.ID == 0 {
		b.fatalf("POST /api/v1/changes with approval required: %d %s, want 202 and a proposed change", status, raw)
	}
	wantKernel("after the API proposal", kernelAfter)
	id := strconv.FormatInt(proposed.ID, 10)
	status, raw = srv.api(http.MethodPost, "/api/v1/changes/"+id+"/approve", adminToken, "", nil)
	if status != http.StatusForbidden {
		b.fatalf("the author approving their own proposal through the API: %d %s, want 403", status, raw)
	}
	var approved changeJSONOut
	approvedAt := time.Now()
	status, raw = srv.api(http.MethodPost, "/api/v1/changes/"+id+"/approve", approverToken, `{"reason":"ok, briefly",`+allHazards+`}`, &approved)
	if status != http.StatusOK || approved.Status != "applied" || approved.ConfirmBy == nil {
		b.fatalf("POST /api/v1/changes/%s/approve as %s: %d %s, want 200, applied, with confirm_by", id, approverName, status, raw)
	}
	deadline, err := time.Parse(time.RFC3339Nano, *approved.ConfirmBy)
	if err != nil {
		b.fatalf("confirm_by %q: %v", *approved.ConfirmBy, err)
	}
	if d := deadline.Sub(approvedAt); d < 2*time.Second || d > 6*time.Second {
		b.fatalf("confirm_by is %v after the approval, want about 4 s", d)
	}
	wantKernel("after the API approval", "42000\t52001\n")
	wantConf("after the API approval", e2eConf+"net.ipv4.ip_local_port_range = 42000 52001\n")

	b.open("/", "/")
	b.wantVisible(`[data-testid="confirm-banner"]`)
	b.wantContains(`[data-testid="confirm-banner"]`, "Change #"+id+" (42000 – 52001)")
	b.wantMatch(`[data-testid="confirm-banner"] [data-testid="countdown"]`, countdownText)
	b.screenshot("safe-countdown")
	b.markPage()
	waited := b.waitFor("the page to reload itself without the confirm banner",
		`!window.e2eOldPage && document.readyState === "complete" && !document.querySelector('[data-testid="confirm-banner"]')`,
		20*time.Second)
	t.Logf("the banner went %v after the dashboard was marked (deadline %v after the approval)", waited.Round(100*time.Millisecond), deadline.Sub(approvedAt).Round(100*time.Millisecond))
	if s := eval[int](b, `performance.getEntriesByType("navigation")[0].responseStatus`); s != 200 {
		b.fatalf("the page the countdown reloaded has status %d, want 200", s)
	}
	if p := b.location().Path; p != "/" {
		b.fatalf("the countdown's reload went to %s, want / again", p)
	}
	b.wantText(`[data-testid="range-value"]`, "40000 – 50001")
	b.screenshot("safe-reverted-dashboard")

	b.open("/changes/"+id, "/changes/"+id)
	b.wantMatch(`[data-testid="status"]`, statusIs("reverted"))
	b.wantNone(`[data-testid="confirm-banner"]`, `[data-testid="rollback-form"]`)
	b.screenshot("safe-reverted")
	wantKernel("after the automatic revert", kernelAfter)
	wantConf("after the automatic revert", confAfter)
	var list struct {
		Changes []changeJSONOut `json:"changes"`
	}
	if status, raw := srv.api(http.MethodGet, "/api/v1/changes", approverToken, "", &list); status != http.StatusOK || len(list.Changes) == 0 {
		b.fatalf("GET /api/v1/changes: %d %s", status, raw)
	}
	if r := list.Changes[0]; r.RollbackOf == nil || *r.RollbackOf != proposed.ID || r.User != "portpanel" || r.Status != "applied" ||
		r.Low != 40000 || r.High != 50001 {
		b.fatalf("the newest change is %+v, want the automatic revert of #%s by portpanel to 40000 – 50001, applied", r, id)
	}

	// The audit log tells the story, with the chain intact.
	revertID := strconv.FormatInt(list.Changes[0].ID, 10)
	b.open("/audit", "/audit")
	b.wantMatch(`[data-testid="chain"]`, regexp.MustCompile(`^✓ Hash chain verified \(\d+ events\): in full .+; \d+ newer events? verified since, one by one\.$`))
	for _, row := range [][]string{
		{"*", "*", e2eUser, "change.proposed", "* change #" + changeID + "*"},
		{"*", "*", approverName, "change.approved", "* change #" + changeID + "*"},
		{"*", "*", e2eUser, "change.applied", "* change #" + changeID + "*"},
		{"*", "*", approverName, "change.confirmed", "* change #" + changeID + "*"},
		{"*", "*", e2eUser, "change.proposed", "* change #" + id + "*"},
		{"*", "*", approverName, "change.approved", "* change #" + id + "*"},
		{"*", "*", "portpanel", "change.rolled_back", "* change #" + revertID + "*"},
	} {
		b.wantRow(`[data-testid="audit-row"]`, row)
	}
	b.screenshot("safe-audit")

	// 4. Nothing went wrong on either side.
	b.wantNoConsoleErrors()
	srv.wantNoErrors()
}

// countdown is the seconds left the confirm banner's countdown shows.
func (b *e2eBrowser) countdown() int {
	b.t.Helper()
	text := b.one(`[data-testid="confirm-banner"] [data-testid="countdown"]`)
	m := countdownText.FindStringSubmatch(text)
	if m == nil {
		b.fatalf("the countdown reads %q, want m:ss", text)
	}
	mins, _ := strconv.Atoi(m[1])
	sec, _ := strconv.Atoi(m[2])
	return 60*mins + sec
}
