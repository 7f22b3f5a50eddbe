package main

import (
	"regexp"
	"strings"
	"testing"

	"portpanel/sysctl/sysctltest"
)

// The end-to-end test drives Debian's headless Chromium through the whole
// life of a range change against the real server, the real kernel and a
// real config file: first admin, change (reviewed, then applied), history,
// audit, rollback, sign out. The kernel it writes is that of a private
// network namespace, and the config tree lives in a temp dir, so the host
// is never touched. The harness is in e2e_helpers_test.go.

const (
	e2eUser     = "e2e-admin"
	e2ePassword = "correct horse battery staple"
	e2eReason   = "e2e: more ports"
)

func TestBrowserEndToEnd(t *testing.T) {
	chromium := findChromium(t)
	if !sysctltest.InNetns(t) {
		return
	}
	host := newHost(t)
	kernel, conf := host.kernel, host.conf
	srv := startServer(t, host)
	b := newBrowser(t, chromium, srv, e2eTimeout)

	// a. The first admin, from the link printed at start.
	b.open(srv.setupURL, "/setup")
	b.typeInto("#username", e2eUser)
	b.typeInto("#password", e2ePassword)
	b.typeInto("#password2", e2ePassword)
	b.screenshot("setup")
	b.submit(`[data-testid="setup-form"] button[type="submit"]`, "/")
	b.wantText(`[data-testid="flash"]`, "✓ Welcome, "+e2eUser+". You are the first administrator.")
	b.wantText(`[data-testid="user"]`, e2eUser+" (admin)")
	b.wantMatch(`[data-testid="host"] .netns`, regexp.MustCompile(`^network namespace net:\[\d+\]$`))
	b.wantText(`[data-testid="range-value"]`, "32768 – 60999")
	b.wantText(`[data-testid="port-count"]`, "28,232 ports")
	b.wantText(`[data-testid="boot-value"]`, "32768 – 60999 kernel default (no file sets it)")
	b.wantText(`[data-testid="boot-reader"]`, "sysctl --system (procps)")
	b.wantText(`[data-testid="managed-file"]`, conf)
	b.wantNone(`[data-testid="drift"]`, `[data-testid="warnings"]`, `[data-testid="banners"]`, `[data-testid="boot-where"]`)
	b.wantText(`[data-testid="empty"]`, "No changes yet. Changes made here or by hand with sysctl appear in History.")
	b.wantValue("#low", "32768")
	b.wantValue("#high", "60999")

	// b. A change through the dashboard form: reviewed first (nothing
	// changes), then applied.
	b.wantValue(`[data-testid="change-form"] select[name="confirm_within"]`, "0")
	b.typeInto("#low", "40000")
	b.typeInto("#high", "50001")
	b.typeInto("#reason", e2eReason)
	b.submit(`[data-testid="change-form"] [data-testid="review"]`, "/changes")
	b.wantContains(`[data-testid="review-before"]`, "32768 – 60999")
	b.wantContains(`[data-testid="review-after"]`, "40000 – 50001")
	b.wantContains(`[data-testid="review-diff"]`, "\n+net.ipv4.ip_local_port_range = 40000 50001\n")
	b.wantVisible(`[data-testid="edit-change"]`)
	b.screenshot("review")
	if got := readFile(t, kernel); got != "32768\t60999\n" {
		b.fatalf("on the review page the kernel reads %q, want it unchanged, %q", got, "32768\t60999\n")
	}
	if got := readFile(t, conf); got != e2eConf {
		b.fatalf("on the review page %s is\n%s\nwant it unchanged:\n%s", conf, got, e2eConf)
	}
	changePath := b.submitAcknowledging(`[data-testid="confirm-change"]`, `/changes/\d+`)
	changeID := strings.TrimPrefix(changePath, "/changes/")
	changeHazards := b.hazardsNoted()
	b.wantText(`[data-testid="flash"]`, "✓ Applied: the range is now 40000 – 50001, in the kernel and in "+conf+".")
	b.wantText("h1", "Change #"+changeID)
	b.wantText(`[data-testid="status"]`, "✓ applied")
	b.wantText(`[data-testid="before"]`, "32768 – 60999")
	b.wantText(`[data-testid="after"]`, "40000 – 50001")
	b.wantText(`[data-testid="reason"]`, e2eReason)
	b.wantContains(`[data-testid="diff"]`, "\n+net.ipv4.ip_local_port_range = 40000 50001\n")
	b.wantText(`[data-testid="rollback"]`, "Roll back to 32768 – 60999")
	if got := readFile(t, kernel); got != "40000\t50001\n" {
		b.fatalf("after the change the kernel reads %q, want %q", got, "40000\t50001\n")
	}
	if got, want := readFile(t, conf), e2eConf+"net.ipv4.ip_local_port_range = 40000 50001\n"; got != want {
		b.fatalf("after the change %s is\n%s\nwant\n%s", conf, got, want)
	}

	b.open("/", "/")
	b.wantText(`[data-testid="range-value"]`, "40000 – 50001")
	b.wantText(`[data-testid="port-count"]`, "10,002 ports")
	b.wantText(`[data-testid="boot-value"]`, "40000 – 50001")
	b.wantText(`[data-testid="boot-where"]`, conf+":6")
	b.wantNone(`[data-testid="drift"]`, `[data-testid="warnings"]`, `[data-testid="banners"]`, `[data-testid="empty"]`)
	b.wantRows(`[data-testid="change-row"]`, [][]string{
		{"#" + changeID, "*", e2eUser, "32768 – 60999 → 40000 – 50001", "✓ applied", "Roll back"},
	})
	b.screenshot("dashboard-after-change")

	// c. History and audit log show the change.
	b.open("/history", "/history")
	b.wantRows(`[data-testid="sample-row"]`, [][]string{
		{"*", "40000", "50001", "10,002", "none", "● change"},
		{"*", "32768", "60999", "28,232", "none", "start"},
	})
	b.wantMatch(`[data-testid="history-chart"] [data-testid="markers"] > * > title`, regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d UTC: changed in portpanel to 40000 – 50001$`))
	// The usage chart is drawn from the sampler's scans, with the change
	// marked (in both of its plots) and linked to the change's page.
	b.wantVisible(`[data-testid="usage-chart"] svg`)
	markers := b.texts(`[data-testid="usage-chart"] [data-testid="markers"] > a[href="/changes/` + changeID + `"] > title`)
	if len(markers) == 0 {
		b.fatalf("the usage chart has no marker linking to change #%s", changeID)
	}
	for _, m := range markers {
		if !strings.Contains(m, "40000 – 50001") {
			b.fatalf("usage chart marker reads %q, want the change to 40000 – 50001", m)
		}
	}
	b.screenshot("history")

	b.open("/audit", "/audit")
	b.wantMatch(`[data-testid="chain"]`, regexp.MustCompile(`^✓ Hash chain verified \(\d+ events\): in full .+; \d+ newer events? verified since, one by one\.$`))
	b.wantRow(`[data-testid="audit-row"]`, []string{"*", "*", e2eUser, "change.applied",
		"net.ipv4.ip_local_port_range 32768 60999 → 40000 50001 (" + conf + ")" + changeHazards + ". Reason: " + e2eReason + " change #" + changeID + "*"})
	// The newest event is the change's, with the diff it wrote.
	b.wantContains(`[data-testid="audit-more"]`, "\n+net.ipv4.ip_local_port_range = 40000 50001\n")
	b.screenshot("audit")

	// d. Roll back with the button on the change page.
	b.open(changePath, changePath)
	rollbackPath := b.submit(`[data-testid="rollback-form"] [data-testid="rollback"]`, `/changes/\d+`)
	rollbackID := strings.TrimPrefix(rollbackPath, "/changes/")
	if rollbackID == changeID {
		b.fatalf("the rollback landed on the change it rolled back (%s), want a new change", rollbackPath)
	}
	b.wantText(`[data-testid="flash"]`, "✓ Rolled back change #"+changeID+": the range is 32768 – 60999 again.")
	b.wantText(`[data-testid="rollback-of"]`, "change #"+changeID)
	b.wantText(`[data-testid="before"]`, "40000 – 50001")
	b.wantText(`[data-testid="after"]`, "32768 – 60999")
	b.wantText(`[data-testid="reason"]`, "Roll back change #"+changeID)
	b.wantContains(`[data-testid="diff"]`, "\n-net.ipv4.ip_local_port_range = 40000 50001\n")
	rollbackHazards := b.hazardsNoted()
	b.screenshot("rollback")
	if got := readFile(t, kernel); got != "32768\t60999\n" {
		b.fatalf("after the rollback the kernel reads %q, want %q", got, "32768\t60999\n")
	}
	if got := readFile(t, conf); got != e2eConf {
		b.fatalf("after the rollback %s is\n%s\nwant it byte for byte as before the change:\n%s", conf, got, e2eConf)
	}
	b.open("/audit", "/audit")
	b.wantRow(`[data-testid="audit-row"]`, []string{"*", "*", e2eUser, "change.rolled_back",
		"net.ipv4.ip_local_port_range 40000 50001 → 32768 60999 (" + conf + "), rolling back change #" + changeID +
			rollbackHazards + ". Reason: Roll back change #" + changeID + " change #" + rollbackID + "*"})
	b.open(changePath, changePath)
	b.wantText(`[data-testid="status"]`, "↶ reverted")
	b.wantText(`[data-testid="rolled-back-by"]`, "#"+rollbackID)
	b.wantNone(`[data-testid="rollback-form"]`)

	// e. The changes list shows both, newest first, linked both ways.
	b.open("/changes", "/changes")
	b.wantRows(`[data-testid="change-row"]`, [][]string{
		{"#" + rollbackID, "*", e2eUser, "40000 – 50001 → 32768 – 60999", "28,232", "✓ applied", "Roll back change #" + changeID, "#" + changeID, "*"},
		{"#" + changeID, "*", e2eUser, "32768 – 60999 → 40000 – 50001", "10,002", "↶ reverted", e2eReason, "", "rolled back by #" + rollbackID},
	})
	b.screenshot("changes")
	b.wantNoConsoleErrors()

	// f. Sign out. Replaying the old session cookie afterwards must not sign
	// anyone in: the session is gone on the server, not just in the browser.
	session := b.cookie(sessionCookie)
	if session == "" {
		b.fatalf("signed in, but the browser holds no %s cookie", sessionCookie)
	}
	b.submit(`form[action="/logout"] button[type="submit"]`, "/login")
	b.wantVisible(`[data-testid="login-form"]`)
	b.wantNone(`[data-testid="user"]`)
	b.screenshot("signed-out")
	b.setCookie(sessionCookie, session)
	b.open("/", "/login")
	if loc := b.location(); loc.RawQuery != "next=%2F" {
		b.fatalf("/ signed out went to %s, want /login?next=%%2F", loc)
	}
	// The setup link works once.
	b.openStatus(srv.setupURL, "/setup", 404)
	b.wantText(`[data-testid="error-code"]`, "404")

	srv.wantNoErrors()
}
