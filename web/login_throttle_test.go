package web_test

import (
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"portpanel/auth"
	"portpanel/db"
	"portpanel/handlers/throttle"
	"portpanel/internal/testclock"
	"portpanel/sysctl/sysctltest"
	"portpanel/web"
)

// testClientHeader names the client address a request stands for. The test
// server sees every connection from 127.0.0.1; fromAddr sets the peer
// address from this header, and portpanel's IP extractor (ExtractIPDirect)
// reads the peer address as it would from a real connection.
const testClientHeader = "X-Test-Client"

func fromAddr(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a := r.Header.Get(testClientHeader); a != "" {
			r.RemoteAddr = net.JoinHostPort(a, "40000")
		}
		next.ServeHTTP(w, r)
	})
}

// withLimiter serves e's handlers again, with limiter l, behind fromAddr.
// A test that signs in wrongly many times on purpose (the attack suite) can
// give itself a limiter with higher limits this way.
func withLimiter(t *testing.T, e *env, l *throttle.Limiter) *env {
	t.Helper()
	h := e.handlersCopy()
	h.Throttle = l
	srv := httptest.NewServer(fromAddr(web.New(h)))
	t.Cleanup(srv.Close)
	return &env{srv: srv, h: h, file: e.file}
}

// throttleEnv has a limiter on a clock that moves only when the test says,
// so no assertion depends on how fast the machine is.
func throttleEnv(t *testing.T) (*env, *testclock.Clock) {
	clk := newClock()
	return withLimiter(t, newEnv(t, sysctltest.ProcSys()), throttle.New(throttle.Config{Now: clk.Now})), clk
}

// signIn posts the login form as a client at addr and returns the status,
// the Retry-After header and the form's error message.
func signIn(t *testing.T, c *client, token, addr, name, password string) (int, string, string) {
	t.Helper()
	form := url.Values{"username": {name}, "password": {password}, "csrf": {token}}
	res := c.do(http.MethodPost, "/login", http.Header{"Content-Type": {"application/x-www-form-urlencoded"},
		testClientHeader: {addr}}, strings.NewReader(form.Encode()))
	doc, err := goquery.NewDocumentFromReader(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, res.Header.Get("Retry-After"), strings.TrimSpace(doc.Find(`[data-testid="form-error"]`).Text())
}

func auditCounts(t *testing.T, e *env) (map[string]int, []db.AuditEvent) {
	t.Helper()
	events, err := e.h.DB.Audit(t.Context(), 1000, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := map[string]int{}
	for _, ev := range events {
		n[ev.Action]++
	}
	return n, events
}

func TestBruteForceIsThrottledAndAudited(t *testing.T) {
	e, clk := throttleEnv(t)
	e.addUser(t, "admin1", auth.RoleAdmin)
	const attacker, admin = "192.0.2.66", "198.51.100.7"
	c := e.client(t)
	token := c.csrf("/login")

	for i := 1; i <= 50; i++ {
		status, retry, msg := signIn(t, c, token, attacker, "admin1", "wrong password!")
		switch {
		case i <= 6 && (status != http.StatusUnauthorized || msg != "✗ Wrong user name or password."):
			t.Fatalf("attempt %d: %d %q, want 401 and the wrong-password message (5 free failures, the 6th sets the first wait)", i, status, msg)
		case i > 6 && (status != http.StatusTooManyRequests || retry != "1" || msg != "✗ Too many failed sign-ins. Wait 1 second, then try again."):
			t.Fatalf("attempt %d: %d, Retry-After %q, %q; want 429, 1 and the wait message", i, status, retry, msg)
		}
	}
	n, events := auditCounts(t, e)
	if n["login.failed"] != 6 || n["login.throttled"] != 44 {
		t.Errorf("audited %d failed and %d throttled sign-ins, want 6 and 44: every one of the 50 attempts", n["login.failed"], n["login.throttled"])
	}
	for _, ev := range events {
		if !strings.Contains(ev.Detail, `"admin1"`) || !strings.Contains(ev.Detail, attacker) {
			t.Errorf("audit %s %q lacks the name or the address", ev.Action, ev.Detail)
		}
	}

	// The right password while throttled is not even checked.
	if status, _, _ := signIn(t, c, token, attacker, "admin1", testPassword); status != http.StatusTooManyRequests {
		t.Fatalf("right password while throttled: %d, want 429", status)
	}
	if n, _ := auditCounts(t, e); n["login.throttled"] != 45 || n["login"] != 0 {
		t.Errorf("after the right password while throttled: %v, want 45 throttled and no sign-in", n)
	}

	// The admin elsewhere is not locked out by the attack.
	admins := e.client(t)
	if status, _, msg := signIn(t, admins, admins.csrf("/login"), admin, "admin1", testPassword); status != http.StatusSeeOther {
		t.Fatalf("the admin from another address: %d %q, want 303 while the attacker waits", status, msg)
	}

	// Once the wait is over, a success clears the count for that address.
	clk.Advance(time.Second)
	if status, _, msg := signIn(t, c, token, attacker, "admin1", testPassword); status != http.StatusSeeOther {
		t.Fatalf("right password after the wait: %d %q, want 303", status, msg)
	}
	c = e.client(t)
	if status, _, _ := signIn(t, c, c.csrf("/login"), attacker, "admin1", "wrong password!"); status != http.StatusUnauthorized {
		t.Errorf("a wrong password after a success: %d, want 401 (the count starts over)", status)
	}
}

// Throttling must not tell an existing account from a made-up one.
func TestUnknownNamesAreThrottledAlike(t *testing.T) {
	e, _ := throttleEnv(t)
	e.addUser(t, "admin1", auth.RoleAdmin)
	c := e.client(t)
	token := c.csrf("/login")
	answers := func(addr, name string) []string {
		var out []string
		for range 10 {
			status, retry, msg := signIn(t, c, token, addr, name, "wrong password!")
			out = append(out, http.StatusText(status)+" / "+retry+" / "+msg)
		}
		return out
	}
	real, madeUp := answers("192.0.2.10", "admin1"), answers("192.0.2.11", "nobody")
	for i := range real {
		if real[i] != madeUp[i] {
			t.Errorf("attempt %d: %q for a real account, %q for an unknown one", i+1, real[i], madeUp[i])
		}
	}
	if !strings.HasPrefix(real[9], "Too Many Requests") {
		t.Errorf("the tenth attempt got %q, want throttled", real[9])
	}
}
