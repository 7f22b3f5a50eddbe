package web_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"portpanel/auth"
	"portpanel/handlers/throttle"
	"portpanel/internal/testclock"
	"portpanel/sysctl/sysctltest"
)

// exportedEvent is an audit event as the JSON export carries it.
type exportedEvent struct {
	ID       int64  `json:"id"`
	At       string `json:"at"`
	User     string `json:"user"`
	Action   string `json:"action"`
	Detail   string `json:"detail"`
	ChangeID *int64 `json:"change_id"`
	PrevHash string `json:"prev_hash"`
	Hash     string `json:"hash"`
}

// offlineHash recomputes an exported event's hash as README and db/audit.go
// document it, the way an auditor without portpanel would: netstrings of
// "portpanel-audit-v1", prev_hash, id, at (unix ms), user, action, detail,
// change_id, hashed with SHA-256.
func offlineHash(t *testing.T, e exportedEvent) string {
	t.Helper()
	at, err := time.Parse(time.RFC3339Nano, e.At)
	if err != nil {
		t.Fatalf("event %d: at %q: %v", e.ID, e.At, err)
	}
	change := ""
	if e.ChangeID != nil {
		change = strconv.FormatInt(*e.ChangeID, 10)
	}
	h := sha256.New()
	for _, f := range []string{"portpanel-audit-v1", e.PrevHash, strconv.FormatInt(e.ID, 10),
		strconv.FormatInt(at.UnixMilli(), 10), e.User, e.Action, e.Detail, change} {
		fmt.Fprintf(h, "%d:%s,", len(f), f)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TestAttackAuditExportVerifiesOfflineAfterHostileInput types text that is
// not plain UTF-8 where the audit log records it (a long user name at
// sign-in, whose quoted copy is cut short; a change reason with bytes that
// are not UTF-8) and then verifies the JSON export offline, as README says
// an auditor can. Hostile input must either be refused or leave a log that
// still verifies outside portpanel; every detail stored must be valid
// UTF-8 so that the export (JSON, which cannot carry other bytes) is the
// log itself.
func TestAttackAuditExportVerifiesOfflineAfterHostileInput(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	e := newEnv(t, sysctltest.ProcSys())
	e.h.Changes.RequireApproval = true
	op := e.loginAs(t, "opal", auth.RoleOperator)

	for _, name := range []string{
		strings.Repeat("a", 63) + "é",          // the audit quotes 64 bytes: the cut falls inside é
		strings.Repeat("b", 62) + "💥 and more", // and inside a 4-byte rune
		"line\nbreak\rname",
	} {
		c := e.client(t)
		c.post("/login", url.Values{"username": {name}, "password": {"wrong password!"}, "csrf": {c.csrf("/login")}})
	}
	for i, reason := range []string{"bad\xff\xfebytes", "\xc3", "ok reason"} {
		form := changeForm(op.csrf("/"), strconv.Itoa(40001+i), "50001", reason)
		review := op.post("/changes", form)
		page := body(review)
		if review.StatusCode != http.StatusOK || !strings.Contains(page, `name="base_file"`) {
			if review.StatusCode < 400 || review.StatusCode >= 500 {
				t.Errorf("propose with the reason %q: %d, want the review page or a 4xx", reason, review.StatusCode)
			}
			continue // refused: fine
		}
		res := op.post("/changes", with(form, "confirm", "yes", "base_file", hiddenInput(t, page, "base_file")))
		if res.StatusCode != http.StatusSeeOther && (res.StatusCode < 400 || res.StatusCode >= 500) {
			t.Errorf("confirm the proposal with the reason %q: %d", reason, res.StatusCode)
		}
	}

	_, stored := auditActions(t, e)
	for _, ev := range stored {
		if !utf8.ValidString(ev.Detail) || !utf8.ValidString(ev.User) {
			t.Errorf("audit event %d (%s) stores text that is not UTF-8: user %q, detail %q", ev.ID, ev.Action, ev.User, ev.Detail)
		}
	}
	res := op.get("/audit/export?format=json")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /audit/export?format=json: %d", res.StatusCode)
	}
	var events []exportedEvent
	if err := json.Unmarshal([]byte(body(res)), &events); err != nil {
		t.Fatalf("the JSON export does not decode: %v", err)
	}
	prev := ""
	for _, ev := range events {
		if ev.PrevHash != prev {
			t.Errorf("exported event %d: prev_hash %.12s…, want the hash before it, %.12s…", ev.ID, ev.PrevHash, prev)
		}
		if got := offlineHash(t, ev); got != ev.Hash {
			t.Errorf("exported event %d (%s) does not verify offline: its fields hash to %.12s…, it says %.12s…; detail %q",
				ev.ID, ev.Action, got, ev.Hash, ev.Detail)
		}
		prev = ev.Hash
	}
	if len(events) < 4 {
		t.Errorf("the export has %d events, want the sign-ins and proposals", len(events))
	}
	wantChainIntact(t, e)
}

// clientFrom is a browser-like client whose connections come from ip, an
// address of the loopback network other than 127.0.0.1: the server sees a
// different client address, as it would for another machine.
func (e *env) clientFrom(t *testing.T, ip string) *client {
	c := e.client(t)
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	c.http.Transport = &http.Transport{DialContext: d.DialContext}
	return c
}

// TestAttackBruteForceIsThrottledAndAudited guesses 50 passwords for one
// account from one address, each claiming another address in
// X-Forwarded-For and its kin (ignored: no proxy is trusted): after a few the answer is 429 with
// Retry-After, even for the right password, and all 50 are in the audit log
// with the address. An unknown name is answered exactly alike, and the real
// admin, from another address, still signs in: no lockout.
func TestAttackBruteForceIsThrottledAndAudited(t *testing.T) {
	e := newEnv(t, sysctltest.ProcSys())
	// The throttle's clock stands still: with the wall clock, a slow
	// machine lets one address's wait run out between guesses while the
	// other's does not, and the two names' answers differ by timing alone.
	e.h.Throttle = throttle.New(throttle.Config{Now: testclock.New(time.Now()).Now})
	e.addUser(t, "admin", auth.RoleAdmin)
	guess := func(c *client, token, name string, i int) int {
		// Each guess claims another client address: without a trusted
		// proxy, no header may change the address that is throttled.
		spoof := fmt.Sprintf("203.0.113.%d", i)
		form := url.Values{"username": {name}, "password": {fmt.Sprintf("guess number %d!", i)}, "csrf": {token}}
		res := c.do(http.MethodPost, "/login", http.Header{"Content-Type": {"application/x-www-form-urlencoded"},
			"X-Forwarded-For": {spoof}, "X-Real-Ip": {spoof}, "Forwarded": {"for=" + spoof}, "True-Client-Ip": {spoof}},
			strings.NewReader(form.Encode()))
		b := body(res)
		switch res.StatusCode {
		case http.StatusUnauthorized:
		case http.StatusTooManyRequests:
			if s, err := strconv.Atoi(res.Header.Get("Retry-After")); err != nil || s < 1 {
				t.Errorf("guess %d as %s: 429 with Retry-After %q, want whole seconds", i, name, res.Header.Get("Retry-After"))
			}
		default:
			t.Errorf("guess %d as %s: %d, want 401 or 429\n%.300s", i, name, res.StatusCode, b)
		}
		return res.StatusCode
	}
	attacker, prober := e.clientFrom(t, "127.0.0.2"), e.clientFrom(t, "127.0.0.4")
	at, pt := attacker.csrf("/login"), prober.csrf("/login")
	var real, unknown []int
	for i := range 50 {
		real = append(real, guess(attacker, at, "admin", i))
		unknown = append(unknown, guess(prober, pt, "no-such-admin", i))
	}
	throttled := 0
	for _, s := range real {
		if s == http.StatusTooManyRequests {
			throttled++
		}
	}
	if throttled < 40 || real[49] != http.StatusTooManyRequests {
		t.Errorf("50 wrong passwords: %d throttled (429), the last %d; want 40 or more and the last: %v", throttled, real[49], real)
	}
	if fmt.Sprint(real[:10]) != fmt.Sprint(unknown[:10]) {
		t.Errorf("an existing and an unknown name are answered differently:\nadmin:         %v\nno-such-admin: %v", real[:10], unknown[:10])
	}

	counts, events := auditActions(t, e)
	var fromAttacker int
	for _, ev := range events {
		if (ev.Action == "login.failed" || ev.Action == "login.throttled") && strings.Contains(ev.Detail, `"admin"`) {
			if !strings.Contains(ev.Detail, "127.0.0.2") || strings.Contains(ev.Detail, "203.0.113.") {
				t.Errorf("audit event %d (%s) lacks the client address, or has the spoofed one: %q", ev.ID, ev.Action, ev.Detail)
			}
			fromAttacker++
		}
	}
	if fromAttacker != 50 {
		t.Errorf("%d of the 50 guesses audited (login.failed %d, login.throttled %d in all), want 50",
			fromAttacker, counts["login.failed"], counts["login.throttled"])
	}

	// The right password is no way out for the attacker's address...
	res := attacker.post("/login", url.Values{"username": {"admin"}, "password": {testPassword}, "csrf": {at}})
	if res.StatusCode != http.StatusTooManyRequests {
		t.Errorf("the right password from the throttled address: %d, want 429 (the password is not even checked)", res.StatusCode)
	}
	// ...but the real admin, elsewhere, is not locked out.
	admin := e.clientFrom(t, "127.0.0.3")
	res = admin.post("/login", url.Values{"username": {"admin"}, "password": {testPassword}, "csrf": {admin.csrf("/login")}})
	if res.StatusCode != http.StatusSeeOther {
		t.Errorf("the admin from another address during the attack: %d, want 303 (signed in)", res.StatusCode)
	}
	if n, _ := auditActions(t, e); n["login"] != 1 {
		t.Errorf("%d successful sign-ins audited, want 1", n["login"])
	}
	wantChainIntact(t, e)
}

// TestAttackCurrentPasswordGuessingIsThrottled guesses the current password
// on the account page, as someone at a colleague's unlocked browser (or
// with a stolen session cookie) would, to learn a password that may open
// more than portpanel. The account page checks the current password just
// as sign-in does, so it must slow guessing down just as sign-in does
// (ASVS 2.2.1): most of 50 guesses get 429, the password stays, and every
// guess is audited.
func TestAttackCurrentPasswordGuessingIsThrottled(t *testing.T) {
	e := newEnv(t, sysctltest.ProcSys())
	c := e.login(t, auth.RoleViewer)
	u, err := e.h.DB.UserByName(t.Context(), "viewer1")
	if err != nil {
		t.Fatal(err)
	}
	_, before := auditActions(t, e)
	token := c.csrf("/account")
	var statuses []int
	throttled := 0
	for i := range 50 {
		res := c.post("/account/password", url.Values{"csrf": {token}, "current": {fmt.Sprintf("guess number %d!", i)},
			"password": {"the attacker's new password 1"}, "password2": {"the attacker's new password 1"}})
		statuses = append(statuses, res.StatusCode)
		if res.StatusCode == http.StatusTooManyRequests {
			throttled++
		} else if res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("guess %d of the current password: %d, want 422 or 429\n%.300s", i, res.StatusCode, body(res))
		}
	}
	if throttled < 40 {
		t.Errorf("50 wrong current passwords on /account/password: %d throttled (429), want 40 or more, as at sign-in; statuses %v", throttled, statuses)
	}
	if after, _ := e.h.DB.UserByName(t.Context(), "viewer1"); after.PasswordHash != u.PasswordHash {
		t.Error("the password changed")
	}
	if _, after := auditActions(t, e); len(after)-len(before) < 50 {
		t.Errorf("%d audit events for 50 guesses, want one each", len(after)-len(before))
	}
}
