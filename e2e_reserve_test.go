package main

import (
	"net"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"portpanel/sysctl/sysctltest"
)

// TestBrowserReserveListeners: a service listens inside the range a change
// would set; the review page offers to reserve it in the same change, one
// click reviews the change again with the listening ports added to the
// reserved ports, applying sets both keys in the kernel and both lines in
// the file, and rolling back restores both, the file byte for byte.
func TestBrowserReserveListeners(t *testing.T) {
	chromium := findChromium(t)
	if !sysctltest.InNetns(t) {
		return
	}
	host := newHost(t)
	reservedPath := filepath.Join(filepath.Dir(host.kernel), "ip_local_reserved_ports")
	pg, err := net.Listen("tcp", "127.0.0.1:5432") // "PostgreSQL", seen by serve's first scan
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	srv := startServer(t, host)
	b := newBrowser(t, chromium, srv, e2eTimeout)
	wantKernel := func(when, rng, reservedRe string) {
		t.Helper()
		if got := readFile(t, host.kernel); got != rng {
			b.fatalf("%s the kernel's range reads %q, want %q", when, got, rng)
		}
		if got := strings.TrimSpace(readFile(t, reservedPath)); !regexp.MustCompile("^" + reservedRe + "$").MatchString(got) {
			b.fatalf("%s the kernel's reserved ports are %q, want %s", when, got, reservedRe)
		}
	}

	b.open(srv.setupURL, "/setup")
	b.typeInto("#username", e2eUser)
	b.typeInto("#password", e2ePassword)
	b.typeInto("#password2", e2ePassword)
	b.submit(`[data-testid="setup-form"] button[type="submit"]`, "/")

	b.typeInto("#low", "1024")
	b.typeInto("#high", "65000")
	b.typeInto("#reason", "e2e: widen, keeping the database's port")
	b.submit(`[data-testid="change-form"] [data-testid="review"]`, "/changes")
	b.wantText(`[data-testid="review-reserved-kept"]`, "(unchanged: this change leaves them alone)")
	withPG := `(\d+,)*5432(,\d+)*`
	b.wantMatch(`[data-testid="reserve-offer-ports"]`, regexp.MustCompile("^"+withPG+"$"))
	b.wantMatch(`[data-testid="reserve-listeners"]`, regexp.MustCompile(`^Reserve the \d+ listening ports? inside the new range$`))
	b.screenshot("reserve-offer")

	// One click: the same change, reviewed again with the ports reserved.
	b.submit(`[data-testid="reserve-listeners"]`, "/changes")
	b.wantMatch(`[data-testid="review-reserved-after"]`, regexp.MustCompile("^"+withPG+"$"))
	b.wantNone(`[data-testid="reserve-offer"]`)
	b.wantNone(`[data-testid="hazard-listener-in-range"]`)
	b.wantContains(`[data-testid="review-diff"]`, "+net.ipv4.ip_local_reserved_ports = ")
	b.wantContains(`[data-testid="review-diff"]`, "+net.ipv4.ip_local_port_range = 1024 65000")
	b.screenshot("reserve-review")
	wantKernel("on the review page", "32768\t60999\n", "")

	changePath := b.submitAcknowledging(`[data-testid="confirm-change"]`, `/changes/\d+`)
	b.wantText(`[data-testid="status"]`, "✓ applied")
	b.wantMatch(`[data-testid="reserved-after"]`, regexp.MustCompile("^"+withPG+"$"))
	wantKernel("after the apply", "1024\t65000\n", withPG)
	conf := readFile(t, host.conf)
	lines := strings.Split(strings.TrimSuffix(conf, "\n"), "\n")
	if !slices.Contains(lines, "net.ipv4.ip_local_port_range = 1024 65000") ||
		!slices.ContainsFunc(lines, regexp.MustCompile(`^net\.ipv4\.ip_local_reserved_ports = `+withPG+`$`).MatchString) ||
		!strings.HasPrefix(conf, e2eConf) {
		b.fatalf("after the apply %s is\n%s\nwant the original lines and both keys", host.conf, conf)
	}
	b.open("/", "/")
	b.wantMatch(`[data-testid="boot-reserved"]`, regexp.MustCompile(withPG))

	b.open(changePath, changePath)
	b.submit(`[data-testid="rollback-form"] [data-testid="rollback"]`, `/changes/\d+`)
	wantKernel("after the rollback", "32768\t60999\n", "")
	if got := readFile(t, host.conf); got != e2eConf {
		b.fatalf("after the rollback %s is\n%s\nwant the bytes from before the change\n%s", host.conf, got, e2eConf)
	}
	b.screenshot("reserve-rollback")
	b.wantNoConsoleErrors()
	srv.wantNoErrors()
}
