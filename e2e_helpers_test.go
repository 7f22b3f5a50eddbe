package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"portpanel/cli"
	"portpanel/handlers/openapitest"
	"portpanel/sysctl/sysctltest"
)

// The harness of the browser end-to-end tests: a private host (the kernel
// of a network namespace, a config tree in a temp dir), portpanel serve run
// in-process, the CLI on the same database, the JSON API, and one headless
// Chromium tab with helpers that fail with the page's URL, text and a
// screenshot.

const (
	sessionCookie = "portpanel_session"
	// e2eTimeout bounds a whole browser session unless a test asks for more.
	e2eTimeout = 90 * time.Second
	// stepTimeout bounds one browser step, so a missing element fails
	// fast with the page's text instead of running into e2eTimeout.
	stepTimeout = 15 * time.Second
)

// e2eConf is the managed file before any change: comments and another key,
// which a change must keep and a rollback must restore byte for byte.
const e2eConf = "# /etc/sysctl.conf of the portpanel end-to-end test.\n" +
	"# Lines other than the port range must survive a change and its rollback.\n" +
	"\n" +
	"net.ipv4.tcp_syncookies = 1\n" +
	"# end of file\n"

// e2eHost is the host a browser test manages: the kernel of the private
// network namespace the test runs in, and a config tree in a temp dir.
type e2eHost struct {
	kernel string // /proc/sys/net/ipv4/ip_local_port_range
	root   string // the config root (--config-root)
	conf   string // the managed file, ROOT/etc/sysctl.conf, holding e2eConf
}

// newHost prepares the namespace and the config tree. Call it only inside
// sysctltest.InNetns.
func newHost(t *testing.T) *e2eHost {
	t.Helper()
	// A new network namespace starts with loopback down; server and
	// browser talk over 127.0.0.1.
	if out, err := exec.Command("ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("ip link set lo up: %v\n%s", err, out)
	}
	h := &e2eHost{kernel: filepath.Join(sysctltest.ProcSys(), "net", "ipv4", "ip_local_port_range"), root: t.TempDir()}
	if got := readFile(t, h.kernel); got != "32768\t60999\n" {
		t.Fatalf("a new network namespace should start at the kernel default, %s reads %q", h.kernel, got)
	}
	h.conf = filepath.Join(h.root, "etc", "sysctl.conf")
	if err := os.MkdirAll(filepath.Dir(h.conf), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(h.conf, []byte(e2eConf), 0o644); err != nil {
		t.Fatal(err)
	}
	// As Debian's procps ships it, so systemd-sysctl reads the file too.
	if err := os.Mkdir(filepath.Join(h.root, "etc", "sysctl.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../sysctl.conf", filepath.Join(h.root, "etc", "sysctl.d", "99-sysctl.conf")); err != nil {
		t.Fatal(err)
	}
	return h
}

// findChromium returns Debian's chromium. Without it the test skips, except
// under CI, which must run it.
func findChromium(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("chromium not found, and CI is set: install the Debian package chromium (test.sh does): %v", err)
		}
		t.Skipf("chromium not found (install the Debian package chromium): %v", err)
	}
	return path
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// lockedBuffer collects output written from other goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// e2eServer is portpanel serve, run in-process by run as main would.
type e2eServer struct {
	t        *testing.T
	base     string // http://127.0.0.1:PORT
	setupURL string
	db       string        // the SQLite database, for the CLI
	log      *lockedBuffer // the server's stderr (slog)
}

var setupLine = regexp.MustCompile(`^No users yet\. Create the first admin at (http://127\.0\.0\.1:\d+)/setup\?token=\S+$`)

// startServer runs portpanel serve for host on a free port of 127.0.0.1,
// with a new database, and the serve flags extra (such as
// --require-approval). It returns once the server printed the setup link.
func startServer(t *testing.T, host *e2eHost, extra ...string) *e2eServer {
	t.Helper()
	s := &e2eServer{t: t, db: filepath.Join(t.TempDir(), "pp.db"), log: &lockedBuffer{}}
	ctx, cancel := context.WithCancel(context.Background())
	stdout, stdoutW := io.Pipe()
	done := make(chan error, 1)
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--db", s.db,
		"--sysctl-file", host.conf, "--config-root", host.root, "--boot-reader", "procps", "--sample-interval", "1s"}, extra...)
	go func() {
		done <- cli.Run(ctx, args, strings.NewReader(""), stdoutW, s.log)
		stdoutW.Close()
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("portpanel serve returned %v after its context was cancelled, want nil", err)
			}
		case <-time.After(20 * time.Second):
			t.Errorf("portpanel serve did not return within 20 s of its context being cancelled")
		}
		if t.Failed() {
			t.Logf("server log:\n%s", s.log)
		}
	})

	// Read the setup link, then keep draining stdout so a later print can
	// never block the server.
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		for sc.Scan() {
		}
	}()
	select {
	case line, ok := <-lines:
		m := setupLine.FindStringSubmatch(line)
		if !ok || m == nil {
			t.Fatalf("portpanel serve printed %q first, want the setup link\nserver log:\n%s", line, s.log)
		}
		s.setupURL, s.base = line[strings.Index(line, "http://"):], m[1]
	case err := <-done:
		done <- err // for the cleanup, which waits for it
		t.Fatalf("portpanel serve returned before printing the setup link: %v\nserver log:\n%s", err, s.log)
	case <-time.After(30 * time.Second):
		t.Fatalf("portpanel serve printed no setup link within 30 s\nserver log:\n%s", s.log)
	}
	return s
}

var status5xx = regexp.MustCompile(`\bstatus=5\d\d\b`)

// wantNoErrors fails on any error the server logged, such as a 500.
func (s *e2eServer) wantNoErrors() {
	s.t.Helper()
	for _, line := range strings.Split(s.log.String(), "\n") {
		if strings.Contains(line, "level=ERROR") || status5xx.MatchString(line) {
			s.t.Errorf("the server logged an error: %s", line)
		}
	}
}

// cli runs a portpanel command (user add, token create, ...) against the
// server's database, as an admin at the shell would, and returns its stdout.
func (s *e2eServer) cli(stdin string, args ...string) string {
	s.t.Helper()
	var stdout, stderr bytes.Buffer
	args = append(args, "--db", s.db)
	if err := cli.Run(context.Background(), args, strings.NewReader(stdin), &stdout, &stderr); err != nil {
		s.t.Fatalf("portpanel %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}

// addUser creates a user with the CLI.
func (s *e2eServer) addUser(name, role, password string) {
	s.t.Helper()
	s.cli(password+"\n", "user", "add", name, "--role", role, "--password-stdin")
}

// createToken creates an API token for user with the CLI and returns it.
func (s *e2eServer) createToken(user string) string {
	s.t.Helper()
	out := s.cli("", "token", "create", "--user", user)
	token := strings.TrimSpace(out)
	if token == "" || strings.ContainsAny(token, " \n") {
		s.t.Fatalf("portpanel token create --user %s printed %q, want one token", user, out)
	}
	return token
}

// api sends a JSON request with a bearer token and returns the status and
// the body, decoded into out when out is not nil and the body is JSON.
func (s *e2eServer) api(method, path, token, body string, out any) (int, string) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
	defer cancel()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.base+path, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	// Held to handlers/openapi.json as the web tests' API calls are.
	res, err := (&http.Client{Transport: openapitest.Transport(s.t, nil)}).Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		s.t.Fatalf("%s %s: read the body: %v", method, path, err)
	}
	if out != nil && strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, out); err != nil {
			s.t.Fatalf("%s %s: %d, decode %s: %v", method, path, res.StatusCode, raw, err)
		}
	}
	return res.StatusCode, string(raw)
}

// e2eBrowser is one headless Chromium tab with helpers that fail the test
// with the page's URL, text and a screenshot.
type e2eBrowser struct {
	t       *testing.T
	ctx     context.Context
	srv     *e2eServer
	shots   string // where screenshots go
	output  *lockedBuffer
	console struct {
		sync.Mutex
		errs []string
	}
}

// newBrowser starts Chromium for srv; timeout bounds the whole session.
func newBrowser(t *testing.T, chromium string, srv *e2eServer, timeout time.Duration) *e2eBrowser {
	t.Helper()
	b := &e2eBrowser{t: t, srv: srv, shots: os.Getenv("PORTPANEL_E2E_SCREENSHOTS"), output: &lockedBuffer{}}
	if b.shots == "" {
		b.shots = t.TempDir()
	} else if err := os.MkdirAll(b.shots, 0o755); err != nil {
		t.Fatal(err)
	}
	profile := t.TempDir()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.Headless,
		chromedp.NoSandbox, // as root, Chromium refuses to start with its sandbox
		chromedp.DisableGPU,
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.WindowSize(1280, 900),
		chromedp.UserDataDir(profile),
		chromedp.CombinedOutput(b.output),
	)
	session, cancelTimeout := context.WithTimeout(context.Background(), timeout)
	alloc, cancelAlloc := chromedp.NewExecAllocator(session, opts...)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		if err := chromedp.Cancel(ctx); err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
			t.Logf("close the browser: %v", err)
		}
		cancelCtx()
		cancelAlloc()
		cancelTimeout()
		if t.Failed() {
			t.Logf("chromium output:\n%s", b.chromiumOutput())
		}
	})
	b.ctx = ctx
	start := time.Now()
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v\n%s", err, b.chromiumOutput())
	}
	t.Logf("chromium started in %v", time.Since(start).Round(time.Millisecond))
	messages := chromedp.Console(ctx) // subscribed from here on
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			// portpanel serves no favicon, and Chromium asks for one
			// on every page; that 404 is no error of the page's.
			favicon := strings.HasSuffix(m.URL, "/favicon.ico") && strings.Contains(m.Text, "404")
			if (m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException) && !favicon {
				b.console.Lock()
				b.console.errs = append(b.console.errs, fmt.Sprintf("%s: %s (%s:%d)", m.Type, m.Text, m.URL, m.Line+1))
				b.console.Unlock()
			}
		}
	}()
	return b
}

// chromiumOutput is what Chromium printed, without the noise about D-Bus,
// which a test namespace does not have.
func (b *e2eBrowser) chromiumOutput() string {
	var out strings.Builder
	for _, line := range strings.SplitAfter(b.output.String(), "\n") {
		if !strings.Contains(line, "dbus/") {
			out.WriteString(line)
		}
	}
	return out.String()
}

// step is a context for one browser step.
func (b *e2eBrowser) step() (context.Context, context.CancelFunc) {
	return context.WithTimeout(b.ctx, stepTimeout)
}

// fatalf fails the test with the page's URL and text and a screenshot.
func (b *e2eBrowser) fatalf(format string, args ...any) {
	b.t.Helper()
	msg := fmt.Sprintf(format, args...)
	ctx, cancel := b.step()
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	if err != nil {
		text = fmt.Sprintf("(cannot read the page: %v)", err)
	}
	shot := "(none)"
	if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
		dir := os.Getenv("PORTPANEL_E2E_SCREENSHOTS")
		if dir == "" {
			// Outside t.TempDir, which is gone by the time anyone reads this.
			dir, _ = os.MkdirTemp("", "portpanel-e2e-")
		}
		path := filepath.Join(dir, "failure.png")
		if os.WriteFile(path, png, 0o644) == nil {
			shot = path
		}
	}
	b.t.Fatalf("%s\npage: %s\nscreenshot: %s\npage text:\n%s", msg, loc, shot, text)
}

// open navigates to target (a path or a URL) and wants status 200 and to
// end on wantPath, after any redirects.
func (b *e2eBrowser) open(target, wantPath string) {
	b.t.Helper()
	b.openStatus(target, wantPath, 200)
}

func (b *e2eBrowser) openStatus(target, wantPath string, wantStatus int) {
	b.t.Helper()
	if strings.HasPrefix(target, "/") {
		target = b.srv.base + target
	}
	status := b.load("open "+target, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		res, err := cdp.Call(ctx, t, page.Navigate, page.NavigateParams{URL: target})
		if err == nil && res.ErrorText != "" {
			err = errors.New(res.ErrorText)
		}
		return err
	}))
	if status != wantStatus {
		b.fatalf("open %s: status %d, want %d", target, status, wantStatus)
	}
	if got := b.location().Path; got != wantPath {
		b.fatalf("open %s: landed on %s, want %s", target, got, wantPath)
	}
}

// submit clicks a submit button, waits for the page the POST redirects to,
// and returns its path, which must match wantPath (a regexp).
func (b *e2eBrowser) submit(button, wantPath string) string {
	b.t.Helper()
	status := b.load("click "+button, chromedp.Click(chromedp.CSS(button), chromedp.NodeVisible))
	path := b.location().Path
	if status != 200 {
		b.fatalf("click %s: the page after it, %s, has status %d, want 200", button, path, status)
	}
	if !regexp.MustCompile("^" + wantPath + "$").MatchString(path) {
		b.fatalf("click %s: landed on %s, want %s", button, path, wantPath)
	}
	return path
}

// oldPageProbe is 0 while the page marked old is still there or the new one
// is loading, and then the new page's HTTP status (after redirects).
const oldPageProbe = `!window.e2eOldPage && document.readyState === "complete"
	? performance.getEntriesByType("navigation")[0].responseStatus : 0`

// load marks the page, runs trigger, which must navigate, and waits until a
// new page has loaded; it returns that page's HTTP status. The mark makes
// the wait independent of the order in which the browser reports its
// events: the old page can never pass for the new one.
func (b *e2eBrowser) load(what string, trigger chromedp.Action[chromedp.Void]) int {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`window.e2eOldPage = true`), trigger); err != nil {
		b.fatalf("%s: %v", what, err)
	}
	for {
		// The probe fails while the page changes; it is just tried again.
		try, cancelTry := context.WithTimeout(ctx, 2*time.Second)
		status, err := chromedp.Run(try, chromedp.Evaluate[int](oldPageProbe))
		cancelTry()
		if err == nil && status != 0 {
			return status
		}
		select {
		case <-ctx.Done():
			b.fatalf("%s: no new page loaded within %v (last probe: %d, %v)", what, stepTimeout, status, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (b *e2eBrowser) location() *url.URL {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		b.t.Fatalf("read the location: %v", err)
	}
	u, err := url.Parse(loc)
	if err != nil {
		b.t.Fatalf("parse the location %q: %v", loc, err)
	}
	return u
}

// typeInto replaces the value of an input by typing over it, as a person
// would after selecting what the field holds. (chromedp's SetValue cannot
// clear a field: cdproto drops an empty string argument, so the field
// would read "undefined".)
func (b *e2eBrowser) typeInto(sel, text string) {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	if err := chromedp.Do(ctx,
		chromedp.WaitVisible(chromedp.CSS(sel)),
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%s).select()`, strconv.Quote(sel))),
		chromedp.SendKeys(chromedp.CSS(sel), text),
	); err != nil {
		b.fatalf("type %q into %s: %v", text, sel, err)
	}
	b.wantValue(sel, text)
}

func (b *e2eBrowser) wantValue(sel, want string) {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	got, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(sel)))
	if err != nil {
		b.fatalf("read the value of %s: %v", sel, err)
	}
	if got != want {
		b.fatalf("%s holds %q, want %q", sel, got, want)
	}
}

func (b *e2eBrowser) wantVisible(sel string) {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(sel))); err != nil {
		b.fatalf("wait for %s: %v", sel, err)
	}
}

// texts is the innerText of every element sel matches, with runs of white
// space made one space. It does not wait: pages are server-rendered, and
// submit and open return once they loaded.
func (b *e2eBrowser) texts(sel string) []string {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	got, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](fmt.Sprintf(
		`Array.from(document.querySelectorAll(%s), e => e.innerText ?? e.textContent)`, strconv.Quote(sel))))
	if err != nil {
		b.fatalf("read %s: %v", sel, err)
	}
	for i := range got {
		got[i] = squash(got[i])
	}
	return got
}

func squash(s string) string { return strings.Join(strings.Fields(s), " ") }

// one is the text of the one element sel matches.
func (b *e2eBrowser) one(sel string) string {
	b.t.Helper()
	got := b.texts(sel)
	if len(got) != 1 {
		b.fatalf("%s matches %d elements %q, want 1", sel, len(got), got)
	}
	return got[0]
}

func (b *e2eBrowser) wantText(sel, want string) {
	b.t.Helper()
	if got := b.one(sel); got != want {
		b.fatalf("%s reads %q, want %q", sel, got, want)
	}
}

func (b *e2eBrowser) wantMatch(sel string, want *regexp.Regexp) {
	b.t.Helper()
	if got := b.one(sel); !want.MatchString(got) {
		b.fatalf("%s reads %q, want a match of %s", sel, got, want)
	}
}

// wantContains checks the raw innerText (white space kept) of sel.
func (b *e2eBrowser) wantContains(sel, want string) {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	got, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(
		`(document.querySelector(%s) || {innerText: "(missing)"}).innerText`, strconv.Quote(sel))))
	if err != nil {
		b.fatalf("read %s: %v", sel, err)
	}
	if !strings.Contains(got, want) {
		b.fatalf("%s reads\n%s\nwant it to contain %q", sel, got, want)
	}
}

func (b *e2eBrowser) wantNone(sels ...string) {
	b.t.Helper()
	for _, sel := range sels {
		if got := b.texts(sel); len(got) > 0 {
			b.fatalf("the page has %s %q, want none", sel, got)
		}
	}
}

// rows is the text of each cell of each table row sel matches.
func (b *e2eBrowser) rows(sel string) [][]string {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	got, err := chromedp.Run(ctx, chromedp.Evaluate[[][]string](fmt.Sprintf(
		`Array.from(document.querySelectorAll(%s), r => Array.from(r.cells, c => c.innerText))`, strconv.Quote(sel))))
	if err != nil {
		b.fatalf("read the rows %s: %v", sel, err)
	}
	for _, r := range got {
		for i := range r {
			r[i] = squash(r[i])
		}
	}
	return got
}

// cellsMatch compares a row with want, where "*" matches any cell (times),
// "TEXT*" any cell that begins with TEXT (a summary and what follows) and
// "* TEXT" any cell that ends with " TEXT".
func cellsMatch(got, want []string) bool {
	if len(got) != len(want) {
		return false
	}
	for i, w := range want {
		switch {
		case w == "*":
		case strings.HasPrefix(w, "* ") && strings.HasSuffix(w, "*"):
			if !strings.Contains(got[i], strings.TrimSuffix(w[1:], "*")) {
				return false
			}
		case strings.HasPrefix(w, "* "):
			if !strings.HasSuffix(got[i], w[1:]) {
				return false
			}
		case len(w) > 1 && strings.HasSuffix(w, "*"):
			if !strings.HasPrefix(got[i], strings.TrimSuffix(w, "*")) {
				return false
			}
		case got[i] != w:
			return false
		}
	}
	return true
}

// wantRows wants exactly these rows, in this order.
func (b *e2eBrowser) wantRows(sel string, want [][]string) {
	b.t.Helper()
	got := b.rows(sel)
	ok := len(got) == len(want)
	for i := 0; ok && i < len(want); i++ {
		ok = cellsMatch(got[i], want[i])
	}
	if !ok {
		b.fatalf("rows %s:\n%s\nwant (* is any):\n%s", sel, formatRows(got), formatRows(want))
	}
}

// wantRow wants at least one row like want.
func (b *e2eBrowser) wantRow(sel string, want []string) {
	b.t.Helper()
	got := b.rows(sel)
	for _, r := range got {
		if cellsMatch(r, want) {
			return
		}
	}
	b.fatalf("no row %s is\n%s\n(* is any); the rows are:\n%s", sel, formatRows([][]string{want}), formatRows(got))
}

func formatRows(rows [][]string) string {
	var s strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&s, "  %q\n", r)
	}
	return s.String()
}

// cookie is the value of the browser's cookie name for the server, or "".
func (b *e2eBrowser) cookie(name string) string {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{b.srv.base + "/"}})
	if err != nil {
		b.fatalf("read cookies: %v", err)
	}
	for _, c := range res.Cookies {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

func (b *e2eBrowser) setCookie(name, value string) {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	if _, err := chromedp.Call(ctx, network.SetCookie, network.SetCookieParams{Name: name, Value: value, URL: b.srv.base + "/"}); err != nil {
		b.fatalf("set cookie %s: %v", name, err)
	}
}

// screenshot saves the whole page as NAME.png.
func (b *e2eBrowser) screenshot(name string) {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(b.shots, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot: %s", path)
}

// wantNoConsoleErrors fails on JavaScript errors, CSP violations and failed
// loads the page reported so far.
func (b *e2eBrowser) wantNoConsoleErrors() {
	b.t.Helper()
	b.console.Lock()
	defer b.console.Unlock()
	for _, e := range b.console.errs {
		b.t.Errorf("browser console: %s", e)
	}
}

// signIn signs in on the login page and lands on the dashboard.
func (b *e2eBrowser) signIn(user, password string) {
	b.t.Helper()
	b.open("/login", "/login")
	b.typeInto("#username", user)
	b.typeInto("#password", password)
	b.submit(`[data-testid="login-form"] button[type="submit"]`, "/")
}

// signOut signs out with the button in the top bar.
func (b *e2eBrowser) signOut() {
	b.t.Helper()
	b.submit(`form[action="/logout"] button[type="submit"]`, "/login")
	b.wantVisible(`[data-testid="login-form"]`)
	b.wantNone(`[data-testid="user"]`)
}

// selectOption picks the option with value in the select sel, as a person
// choosing from the list would (the change event fires).
func (b *e2eBrowser) selectOption(sel, value string) {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	js := fmt.Sprintf(`(() => {
		const s = document.querySelector(%s);
		if (!s || !Array.from(s.options).some(o => o.value === %s)) return false;
		s.value = %[2]s;
		s.dispatchEvent(new Event("input", {bubbles: true}));
		s.dispatchEvent(new Event("change", {bubbles: true}));
		return true;
	})()`, strconv.Quote(sel), strconv.Quote(value))
	ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js))
	if err != nil || !ok {
		b.fatalf("select %q in %s: no such select or option (%v)", value, sel, err)
	}
	b.wantValue(sel, value)
}

// options is the value of every option of the select sel.
func (b *e2eBrowser) options(sel string) []string {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	got, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](fmt.Sprintf(
		`Array.from(document.querySelectorAll(%s + " option"), o => o.value)`, strconv.Quote(sel))))
	if err != nil {
		b.fatalf("read the options of %s: %v", sel, err)
	}
	return got
}

// markPage marks the page loaded now, so that waitFor can tell a page the
// browser loaded later (a reload by the page's own script) from this one.
func (b *e2eBrowser) markPage() {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`window.e2eOldPage = true`)); err != nil {
		b.fatalf("mark the page: %v", err)
	}
}

// waitFor evaluates the JavaScript expression cond every 100 ms until it is
// true, and fails after within. An evaluation that fails (the page is
// being replaced) counts as false. It returns how long it waited.
func (b *e2eBrowser) waitFor(what, cond string, within time.Duration) time.Duration {
	b.t.Helper()
	start := time.Now()
	ctx, cancel := context.WithTimeout(b.ctx, within)
	defer cancel()
	for {
		try, cancelTry := context.WithTimeout(ctx, 2*time.Second)
		ok, err := chromedp.Run(try, chromedp.Evaluate[bool](cond))
		cancelTry()
		if err == nil && ok {
			return time.Since(start)
		}
		select {
		case <-ctx.Done():
			b.fatalf("%s: not within %v (last check: %v, %v)", what, within, ok, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// eval evaluates a JavaScript expression on the page.
func eval[T any](b *e2eBrowser, js string) T {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		b.fatalf("evaluate %s: %v", js, err)
	}
	return v
}
