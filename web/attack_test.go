package web_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"portpanel/db"
	"portpanel/web"
)

// The attack suite (issue 5): requests an attacker would send, against the
// real router. This file holds its shared helpers; each attack has a file of
// its own (attack_*_test.go).

// rawResult is what a raw request got back.
type rawResult struct {
	status int
	header http.Header
	body   string
}

// raw sends one request exactly as written (method, request target,
// headers), over its own connection, so neither Go's client nor its URL
// parser cleans the path ("/a/../b", "//a", "%2e%2e") before the server sees
// it.
func (e *env) raw(t *testing.T, method, target string, hdr http.Header, payload string) rawResult {
	t.Helper()
	r, err := e.tryRaw(method, target, hdr, payload)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// tryRaw is raw for use from any goroutine: it returns what went wrong.
func (e *env) tryRaw(method, target string, hdr http.Header, payload string) (rawResult, error) {
	u, err := url.Parse(e.srv.URL)
	if err != nil {
		return rawResult{}, err
	}
	conn, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	if err != nil {
		return rawResult{}, err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	var req strings.Builder
	fmt.Fprintf(&req, "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n", method, target, u.Host)
	for k, vs := range hdr {
		for _, v := range vs {
			fmt.Fprintf(&req, "%s: %s\r\n", k, v)
		}
	}
	if payload != "" || method == http.MethodPost {
		fmt.Fprintf(&req, "Content-Length: %d\r\n", len(payload))
	}
	req.WriteString("\r\n")
	req.WriteString(payload)
	if _, err := io.WriteString(conn, req.String()); err != nil {
		return rawResult{}, err
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: method})
	if err != nil {
		return rawResult{}, fmt.Errorf("%s %s: read the response: %w", method, target, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return rawResult{status: res.StatusCode, header: res.Header, body: string(b)}, nil
}

// cookieHeader is the Cookie header c's jar sends to the server.
func (c *client) cookieHeader() string {
	var parts []string
	for _, ck := range c.http.Jar.Cookies(mustURL(c.t, c.base)) {
		parts = append(parts, ck.Name+"="+ck.Value)
	}
	return strings.Join(parts, "; ")
}

// concrete is a route's path with every parameter (":id", ":name") set to
// value.
func concrete(path, value string) string {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, ":") {
			segs[i] = value
		}
	}
	return strings.Join(segs, "/")
}

// protectedRoutes are the routes of the table that need a sign-in, sorted so
// failures read in a stable order.
func protectedRoutes(e *env) []web.Route {
	var out []web.Route
	for _, r := range web.Routes(e.h) {
		if r.Role != web.Public {
			out = append(out, r)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Path+out[i].Method < out[j].Path+out[j].Method })
	return out
}

// unsafeRoutes are the routes a browser form or script can change
// something with, public ones included (sign-in, setup).
func unsafeRoutes(e *env) []web.Route {
	var out []web.Route
	for _, r := range web.Routes(e.h) {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
		default:
			out = append(out, r)
		}
	}
	return out
}

// dbState is what a request that changes something leaves behind: every
// change with its status, and the audit events other than sign-in ones.
func dbState(t *testing.T, e *env) string {
	t.Helper()
	var s strings.Builder
	changes, err := e.h.DB.Changes(t.Context(), 1000, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range changes {
		fmt.Fprintf(&s, "change %d %s %d-%d %q\n", c.ID, c.Status, c.Low, c.High, c.DecisionReason)
	}
	events, err := e.h.DB.Audit(t.Context(), 1000, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range events {
		if !strings.HasPrefix(ev.Action, "login") {
			fmt.Fprintf(&s, "audit %d %s %s\n", ev.ID, ev.User, ev.Action)
		}
	}
	users, err := e.h.DB.Users(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		fmt.Fprintf(&s, "user %d %s %s %s\n", u.ID, u.Name, u.Role, u.PasswordHash)
	}
	return s.String()
}

// wantChainIntact fails unless the audit log's hash chain verifies.
func wantChainIntact(t *testing.T, e *env) {
	t.Helper()
	if n, err := e.h.DB.VerifyAudit(t.Context()); err != nil {
		t.Errorf("the audit chain no longer verifies after %d events: %v", n, err)
	}
}

// countRows counts the rows of table straight in SQLite.
func countRows(t *testing.T, e *env, table string) int {
	t.Helper()
	var n int
	if err := e.h.DB.SQL().QueryRowContext(t.Context(), "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

// auditActions counts the audit events by action.
func auditActions(t *testing.T, e *env) (map[string]int, []db.AuditEvent) {
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

// formBody is a form's body, url-encoded.
func formBody(kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v.Encode()
}

// jsonString is s as a JSON string literal.
func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// tableNames lists the database's tables and indexes.
func tableNames(t *testing.T, e *env) string {
	t.Helper()
	rows, err := e.h.DB.SQL().QueryContext(t.Context(), `SELECT type || ' ' || name FROM sqlite_master ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	return strings.Join(names, ", ")
}

// usersState is every user with role and hash, as stored.
func usersState(t *testing.T, e *env) string {
	t.Helper()
	users, err := e.h.DB.Users(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var s strings.Builder
	for _, u := range users {
		s.WriteString(itoa(u.ID) + " " + u.Name + " " + u.Role + " " + u.PasswordHash + "\n")
	}
	return s.String()
}
