package web_test

import (
	"encoding/json"
	"errors"
	"html"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"portpanel/auth"
	"portpanel/internal/testclock"
)

// changeOut is a change as the API returns it, with the fields of the safe
// change workflow (review, approval, commit-confirmed).
type changeOut struct {
	changeJSON
	UpdatedAt       string   `json:"updated_at"`
	Notes           []string `json:"notes"`
	Warnings        []string `json:"warnings"`
	ConfirmWithin   int      `json:"confirm_within"`
	ConfirmBy       *string  `json:"confirm_by"`
	DecidedBy       string   `json:"decided_by"`
	DecidedAt       *string  `json:"decided_at"`
	DecisionReason  string   `json:"decision_reason"`
	ConfirmedBy     string   `json:"confirmed_by"`
	ConfirmedAt     *string  `json:"confirmed_at"`
	Emergency       bool     `json:"emergency"`
	FileStateBefore string   `json:"file_state_before"`
}

// apiError is the body of an API error.
type apiError struct {
	Error  string     `json:"error"`
	Change *changeOut `json:"change"`
}

// decode reads res's JSON body into a T.
func decode[T any](t *testing.T, res *http.Response) T {
	t.Helper()
	var v T
	b := body(res)
	if err := json.Unmarshal([]byte(b), &v); err != nil {
		t.Fatalf("%s %s: status %d, body is not the expected JSON (%v):\n%s",
			res.Request.Method, res.Request.URL.Path, res.StatusCode, err, b)
	}
	return v
}

// loginAs creates user name with role and signs in as them.
func (e *env) loginAs(t *testing.T, name, role string) *client {
	t.Helper()
	e.addUser(t, name, role)
	c := e.client(t)
	res := c.post("/login", url.Values{"username": {name}, "password": {testPassword}, "csrf": {c.csrf("/login")}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("login as %s: status %d\n%s", name, res.StatusCode, body(res))
	}
	return c
}

// bearer creates user name with role and an API token, and returns the
// header that authenticates with it.
func (e *env) bearer(t testing.TB, name, role string) http.Header {
	t.Helper()
	u := e.addUser(t, name, role)
	secret, err := auth.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.h.DB.CreateToken(t.Context(), u.ID, name+"-token", auth.HashToken(secret)); err != nil {
		t.Fatal(err)
	}
	return http.Header{"Authorization": {"Bearer " + secret}}
}

// apiHeader is what a signed-in browser session sends to the API: the
// session cookie (in the jar) and its CSRF token.
func (c *client) apiHeader() http.Header {
	c.t.Helper()
	return http.Header{"X-CSRF-Token": {c.csrf("/")}}
}

// apiChanges lists changes through the API, newest first.
func apiChanges(t *testing.T, c *client, hdr http.Header) []changeOut {
	t.Helper()
	res := c.do(http.MethodGet, "/api/v1/changes", hdr.Clone(), nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/v1/changes: %d", res.StatusCode)
	}
	return decode[struct{ Changes []changeOut }](t, res).Changes
}

// apiChange loads one change through the API.
func apiChange(t *testing.T, c *client, hdr http.Header, id int64) changeOut {
	t.Helper()
	res := c.do(http.MethodGet, "/api/v1/changes/"+itoa(id), hdr.Clone(), nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/v1/changes/%d: %d", id, res.StatusCode)
	}
	return decode[changeOut](t, res)
}

var inputTag = regexp.MustCompile(`<input\b[^>]*>`)
var attr = regexp.MustCompile(`\s(name|value)="([^"]*)"`)

// hiddenInput returns the value of the input named name on page, or fails.
func hiddenInput(t *testing.T, page, name string) string {
	t.Helper()
	for _, tag := range inputTag.FindAllString(page, -1) {
		var n, v string
		for _, m := range attr.FindAllStringSubmatch(tag, -1) {
			if m[1] == "name" {
				n = m[2]
			} else {
				v = m[2]
			}
		}
		if n == name {
			return html.UnescapeString(v)
		}
	}
	t.Fatalf("no input named %q on the page:\n%s", name, page)
	return ""
}

// fileContent returns the managed file, or "<absent>".
func fileContent(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return "<absent>"
	} else if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// writeByHand edits the managed file as an admin with vi would.
func writeByHand(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeKernelByHand sets the range as `sysctl -w` would. Only inside InNetns.
func writeKernelByHand(t *testing.T, low, high string) {
	t.Helper()
	if err := os.WriteFile("/proc/sys/net/ipv4/ip_local_port_range", []byte(low+" "+high), 0); err != nil {
		t.Fatal(err)
	}
}

// rangeLine is the line the managed file gets for low–high.
func rangeLine(low, high string) string { return "net.ipv4.ip_local_port_range = " + low + " " + high }

var tag = regexp.MustCompile(`<[^>]*>`)

// mentions reports whether page contains s, in its markup or in its text
// (tags removed, entities decoded: a diff is rendered one span a line).
func mentions(page, s string) bool {
	return strings.Contains(page, s) || strings.Contains(html.UnescapeString(tag.ReplaceAllString(page, "")), s)
}

// newClock is a clock the test moves by hand, starting now on a whole
// second.
func newClock() *testclock.Clock { return testclock.New(time.Now().UTC().Truncate(time.Second)) }

// raced is the outcome of one of the requests fireTogether sent.
type raced struct {
	status int
	body   string
	err    error
}

// fireTogether sends reqs at the same moment, each from its own goroutine,
// and returns their outcomes in order.
func fireTogether(reqs []*http.Request) []raced {
	out := make([]raced, len(reqs))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, req := range reqs {
		wg.Go(func() {
			<-start
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				out[i].err = err
				return
			}
			defer res.Body.Close()
			b, err := io.ReadAll(res.Body)
			out[i] = raced{status: res.StatusCode, body: string(b), err: err}
		})
	}
	close(start)
	wg.Wait()
	return out
}

// jsonRequest builds an API request authenticated by hdr.
func jsonRequest(t *testing.T, e *env, path, payload string, hdr http.Header) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+path, strings.NewReader(payload))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = hdr.Clone()
	req.Header.Set("Content-Type", "application/json")
	return req
}
