package handlers_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"portpanel/agentapi"
	"portpanel/db"
	"portpanel/db/dbtest"
	"portpanel/fleet"
	"portpanel/handlers"
)

// agentEnv is the agent API on a test server, with a real database.
type agentEnv struct {
	t     *testing.T
	fleet *fleet.Service
	srv   *httptest.Server
}

func newAgentEnv(t *testing.T, d *db.DB) *agentEnv {
	t.Helper()
	f := &fleet.Service{DB: d}
	api := &handlers.AgentAPI{Fleet: f, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	srv := httptest.NewServer(api.Echo())
	t.Cleanup(srv.Close)
	return &agentEnv{t: t, fleet: f, srv: srv}
}

func (e *agentEnv) token() string {
	e.t.Helper()
	tok, _, err := e.fleet.CreateEnrollment(context.Background(), "alice", "web", 0)
	if err != nil {
		e.t.Fatalf("create enrollment: %v", err)
	}
	return tok
}

// testAgent is one host's side: its name and key.
type testAgent struct {
	name string
	key  ed25519.PrivateKey
}

func newTestAgent(name string) testAgent {
	_, key, _ := agentapi.GenerateKey()
	return testAgent{name: name, key: key}
}

func (e *agentEnv) enrollReq(a testAgent, token string) *http.Request {
	b, _ := json.Marshal(agentapi.EnrollRequest{Token: token, Name: a.name,
		PublicKey: agentapi.EncodePublicKey(a.key.Public().(ed25519.PublicKey)), Version: "test"})
	req, _ := http.NewRequest("POST", e.srv.URL+agentapi.PathEnroll, bytes.NewReader(b))
	return req
}

// enroll enrolls a with a fresh token and fails the test otherwise.
func (e *agentEnv) enroll(a testAgent) {
	e.t.Helper()
	if code, body := e.do(e.enrollReq(a, e.token())); code != http.StatusOK {
		e.t.Fatalf("enroll %s: %d %s", a.name, code, body)
	}
}

// signed builds a request signed by a at at (zero: now).
func (e *agentEnv) signed(a testAgent, method, target string, body []byte, at time.Time) *http.Request {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.srv.URL+target, bytes.NewReader(body))
	if at.IsZero() {
		at = time.Now()
	}
	if err := agentapi.Sign(req, body, a.name, a.key, at); err != nil {
		e.t.Fatal(err)
	}
	return req
}

func (e *agentEnv) do(req *http.Request) (int, string) {
	e.t.Helper()
	if req.GetBody != nil {
		req.Body, _ = req.GetBody()
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func reportBody(low int) []byte {
	b, _ := json.Marshal(agentapi.Report{Version: "test", PollSeconds: 30,
		Observed: agentapi.Observed{Runtime: agentapi.Range{Low: low, High: 60999}}})
	return b
}

func TestAgentEnrollmentRaceHasOneWinner(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newAgentEnv(t, d)
		token := e.token()
		const n = 12
		codes := make([]int, n)
		var wg sync.WaitGroup
		for i := range n {
			req := e.enrollReq(newTestAgent("host"+string(rune('a'+i))), token)
			wg.Add(1)
			go func() {
				defer wg.Done()
				codes[i], _ = e.do(req)
			}()
		}
		wg.Wait()
		won := 0
		for _, c := range codes {
			switch c {
			case http.StatusOK:
				won++
			case http.StatusUnauthorized:
			default:
				t.Errorf("status %d, want 200 or 401", c)
			}
		}
		if won != 1 {
			t.Errorf("%d enrollments with one token succeeded (%v), want exactly 1", won, codes)
		}
	})
}

func TestAgentRequestsRefused(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newAgentEnv(t, d)
		web1, web2 := newTestAgent("web1"), newTestAgent("web2")
		e.enroll(web1)
		e.enroll(web2)
		revoked := newTestAgent("old")
		e.enroll(revoked)
		if _, err := e.fleet.RevokeHost(context.Background(), "alice", "old"); err != nil {
			t.Fatal(err)
		}
		replayed := e.signed(web1, "POST", agentapi.PathReport, reportBody(20000), time.Time{})
		if code, body := e.do(replayed); code != http.StatusNoContent {
			t.Fatalf("first report: %d %s", code, body)
		}
		impostor := testAgent{name: "web2", key: web1.key} // names web2, holds web1's key
		tamperedBody := e.signed(web1, "POST", agentapi.PathReport, reportBody(20000), time.Time{})
		tamperedBody.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(reportBody(10000))), nil }
		unsigned, _ := http.NewRequest("GET", e.srv.URL+agentapi.PathDesired+"?wait=0", nil)
		unsigned.Header.Set("Cookie", "portpanel_session=abc")
		unsigned.Header.Set("Authorization", "Bearer pp_usertoken")
		large := e.signed(web1, "POST", agentapi.PathReport, bytes.Repeat([]byte(" "), agentapi.MaxBodyBytes+1), time.Time{})
		tests := []struct {
			name string
			req  *http.Request
			want int
		}{
			{"a replayed nonce", replayed, http.StatusUnauthorized},
			{"a stale timestamp", e.signed(web1, "GET", agentapi.PathDesired+"?wait=0", nil, time.Now().Add(-2*time.Minute)), http.StatusUnauthorized},
			{"a timestamp from the future", e.signed(web1, "GET", agentapi.PathDesired+"?wait=0", nil, time.Now().Add(2*time.Minute)), http.StatusUnauthorized},
			{"the wrong key for the host named", e.signed(impostor, "GET", agentapi.PathDesired+"?wait=0", nil, time.Time{}), http.StatusUnauthorized},
			{"an unknown host", e.signed(newTestAgent("ghost"), "GET", agentapi.PathDesired+"?wait=0", nil, time.Time{}), http.StatusUnauthorized},
			{"a revoked host", e.signed(revoked, "GET", agentapi.PathDesired+"?wait=0", nil, time.Time{}), http.StatusUnauthorized},
			{"a body other than the one signed", tamperedBody, http.StatusUnauthorized},
			{"a user's session cookie and API token", unsigned, http.StatusUnauthorized},
			{"a body over MaxBodyBytes", large, http.StatusRequestEntityTooLarge},
			{"a path outside the agent API", e.signed(web1, "GET", "/api/v1/status", nil, time.Time{}), http.StatusNotFound},
			{"a good request", e.signed(web1, "GET", agentapi.PathDesired+"?wait=0", nil, time.Time{}), http.StatusOK},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				code, body := e.do(tt.req)
				if code != tt.want {
					t.Errorf("status %d (%s), want %d", code, body, tt.want)
				}
				if code >= 400 && !strings.HasPrefix(body, `{"error":`) {
					t.Errorf("error body %q is not JSON", body)
				}
			})
		}
	})
}

func TestAgentReportsForItselfOnly(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newAgentEnv(t, d)
		web1, web2 := newTestAgent("web1"), newTestAgent("web2")
		e.enroll(web1)
		e.enroll(web2)
		if code, body := e.do(e.signed(web1, "POST", agentapi.PathReport, reportBody(20000), time.Time{})); code != http.StatusNoContent {
			t.Fatalf("report: %d %s", code, body)
		}
		ctx := context.Background()
		h1, _ := e.fleet.DB.HostByName(ctx, "web1")
		h2, _ := e.fleet.DB.HostByName(ctx, "web2")
		if h1.ReportedAt == nil || !strings.Contains(string(h1.Report), `"low":20000`) || h2.ReportedAt != nil {
			t.Errorf("web1 reported %s at %v; web2 %s at %v: want web1's report on web1 only", h1.Report, h1.ReportedAt, h2.Report, h2.ReportedAt)
		}
	})
}

func TestAgentLongPollWokenBySetDesired(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newAgentEnv(t, d)
		web1 := newTestAgent("web1")
		e.enroll(web1)
		req := e.signed(web1, "GET", agentapi.PathDesired+"?after=0&wait=30", nil, time.Time{})
		type answer struct {
			code int
			body string
			took time.Duration
		}
		got := make(chan answer, 1)
		go func() {
			start := time.Now()
			code, body := e.do(req)
			got <- answer{code, body, time.Since(start)}
		}()
		time.Sleep(100 * time.Millisecond) // let the poll start waiting; if not, it answers at once anyway
		change := &agentapi.DesiredChange{Operation: agentapi.OpSet, Keys: map[string]string{agentapi.KeyRange: "20000 60000"}}
		if _, err := e.fleet.SetDesired(context.Background(), "web1", change, nil); err != nil {
			t.Fatal(err)
		}
		a := <-got
		var des agentapi.Desired
		if err := json.Unmarshal([]byte(a.body), &des); a.code != http.StatusOK || err != nil || des.Generation != 1 || des.Change == nil {
			t.Fatalf("poll: %d %s", a.code, a.body)
		}
		// Measured against the wait, not a tight bound: a poll that was not
		// woken would have held for the whole 30 s.
		if a.took >= 15*time.Second {
			t.Errorf("the poll answered after %s of its 30 s wait: not woken", a.took)
		}
	})
}

func TestAgentRotatesItsKey(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newAgentEnv(t, d)
		old := newTestAgent("web1")
		e.enroll(old)
		_, next, _ := agentapi.GenerateKey()
		req, _ := http.NewRequest("POST", e.srv.URL+agentapi.PathRotate, nil)
		if _, err := agentapi.SignRotation(req, "web1", old.key, next, time.Now()); err != nil {
			t.Fatal(err)
		}
		if code, body := e.do(req); code != http.StatusNoContent {
			t.Fatalf("rotate: %d %s", code, body)
		}
		rotated := testAgent{name: "web1", key: next}
		for _, a := range []testAgent{rotated, old} { // the old key within its grace period
			if code, body := e.do(e.signed(a, "GET", agentapi.PathDesired+"?wait=0", nil, time.Time{})); code != http.StatusOK {
				t.Errorf("poll after rotation: %d %s", code, body)
			}
		}
		// A rotation signed with the previous key is refused.
		_, third, _ := agentapi.GenerateKey()
		req, _ = http.NewRequest("POST", e.srv.URL+agentapi.PathRotate, nil)
		if _, err := agentapi.SignRotation(req, "web1", old.key, third, time.Now()); err != nil {
			t.Fatal(err)
		}
		if code, _ := e.do(req); code != http.StatusUnauthorized {
			t.Errorf("rotation with the previous key: %d, want 401", code)
		}
	})
}

// The 429's Retry-After is the service's own limit, rounded up to whole
// seconds, not the default's.
func TestAgentReportRetryAfterIsTheServiceLimit(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newAgentEnv(t, d)
		e.fleet.Reports = fleet.ReportLimit{Every: 6500 * time.Millisecond, Burst: 1}
		web1 := newTestAgent("web1")
		e.enroll(web1)
		if code, body := e.do(e.signed(web1, "POST", agentapi.PathReport, reportBody(20000), time.Time{})); code != http.StatusNoContent {
			t.Fatalf("first report: %d %s", code, body)
		}
		resp, err := http.DefaultClient.Do(e.signed(web1, "POST", agentapi.PathReport, reportBody(20000), time.Time{}))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "7" {
			t.Errorf("second report: %d, Retry-After %q; want 429, 7", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
	})
}
