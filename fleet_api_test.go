package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"portpanel/agentapi"
	"portpanel/db"
	"portpanel/fleet"
)

// The user API and agent API calls of TestFleetIntegration.

// enrollToken makes a one-time enrollment token for group with POST
// /api/v1/enrollments. Where that route is missing, the test fails, says
// so once, and makes the token with package fleet on the same database,
// so that the steps after enrollment still run.
func (w *fleetWorld) enrollToken(t *testing.T, r *fleetReplica, group string) string {
	t.Helper()
	code, body, err := r.call(http.MethodPost, "/api/v1/enrollments", map[string]any{"group": group})
	if err != nil {
		t.Fatalf("POST /api/v1/enrollments on %s: %v", r.name, err)
	}
	if code == http.StatusNotFound || code == http.StatusMethodNotAllowed {
		if !w.noEnrollAPI {
			t.Errorf("POST /api/v1/enrollments answered %d: the enrollment API is missing; tokens are made through package fleet instead\n%s", code, body)
			w.noEnrollAPI = true
		}
		token, _, err := (&fleet.Service{DB: w.d}).CreateEnrollment(context.Background(), "alice", group, time.Hour)
		if err != nil {
			t.Fatalf("create an enrollment token: %v", err)
		}
		return token
	}
	var tok struct {
		Token, Group string
	}
	if err := json.Unmarshal(body, &tok); err != nil || (code != http.StatusCreated && code != http.StatusOK) || tok.Token == "" || tok.Group != group {
		t.Fatalf("POST /api/v1/enrollments answered %d (%v), want 201 with a token for group %s\n%s", code, err, group, body)
	}
	return tok.Token
}

// revoke revokes host name with POST /api/v1/hosts/NAME/revoke and
// returns its row; as enrollToken, it fails and goes through package
// fleet when the route is missing.
func (w *fleetWorld) revoke(t *testing.T, r *fleetReplica, name string) db.Host {
	t.Helper()
	code, body, err := r.call(http.MethodPost, "/api/v1/hosts/"+name+"/revoke", nil)
	switch {
	case err != nil:
		t.Fatalf("POST /api/v1/hosts/%s/revoke on %s: %v", name, r.name, err)
	case code == http.StatusNotFound || code == http.StatusMethodNotAllowed:
		t.Errorf("POST /api/v1/hosts/%s/revoke answered %d: the revocation API is missing; revoking through package fleet instead\n%s", name, code, body)
		if _, err := (&fleet.Service{DB: w.d}).RevokeHost(context.Background(), "alice", name); err != nil {
			t.Fatalf("revoke %s: %v", name, err)
		}
	case code != http.StatusOK:
		t.Fatalf("POST /api/v1/hosts/%s/revoke answered %d, want 200\n%s", name, code, body)
	}
	return w.host(t, name)
}

type auditEvent struct{ Action, Detail string }

// auditEvents is the newest page of the audit log.
func (r *fleetReplica) auditEvents(t *testing.T) []auditEvent {
	t.Helper()
	var page struct{ Events []auditEvent }
	r.must(t, http.MethodGet, "/api/v1/audit", nil, &page, http.StatusOK)
	return page.Events
}

// enrollStatus sends an enrollment request with token, as host name with
// a fresh key, straight to the agent socket, and returns the status.
func enrollStatus(t *testing.T, sock, token, name string) int {
	t.Helper()
	pub, _, err := agentapi.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(agentapi.EnrollRequest{Token: token, Name: name, PublicKey: agentapi.EncodePublicKey(pub)})
	hc := &http.Client{Timeout: fleetWait, Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}}
	resp, err := hc.Post("http://agent.sock"+agentapi.PathEnroll, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("POST %s on %s: %v", agentapi.PathEnroll, sock, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// remoteChange posts a change for host and returns its id: 201 when the
// agent applied it before the answer, 202 while it has not reported.
func (w *fleetWorld) remoteChange(t *testing.T, r *fleetReplica, host string, body map[string]any) int64 {
	t.Helper()
	var c struct{ ID int64 }
	r.must(t, http.MethodPost, "/api/v1/hosts/"+host+"/changes", body, &c, http.StatusCreated, http.StatusAccepted)
	if c.ID == 0 {
		t.Fatalf("POST /api/v1/hosts/%s/changes answered no change id", host)
	}
	return c.ID
}

type answer struct {
	code int
	body []byte
	err  error
}

// remoteChangeAsync posts a change for host without waiting for the
// answer, which may come only once the host's agent reports.
func (w *fleetWorld) remoteChangeAsync(r *fleetReplica, host string, body map[string]any) <-chan answer {
	ch := make(chan answer, 1)
	go func() {
		code, b, err := r.call(http.MethodPost, "/api/v1/hosts/"+host+"/changes", body)
		ch <- answer{code, b, err}
	}()
	return ch
}

// answeredID waits for an answer of remoteChangeAsync and returns the
// change's id.
func (w *fleetWorld) answeredID(t *testing.T, answered <-chan answer) int64 {
	t.Helper()
	r := <-answered
	var c struct{ ID int64 }
	if r.err != nil || (r.code != http.StatusCreated && r.code != http.StatusAccepted) || json.Unmarshal(r.body, &c) != nil || c.ID == 0 {
		t.Fatalf("POST /api/v1/hosts/NAME/changes answered %d %v, want 201 or 202 with the change's id\n%s", r.code, r.err, r.body)
	}
	return c.ID
}

// newestChange is the id of host's newest change, once there is one.
func (w *fleetWorld) newestChange(t *testing.T, r *fleetReplica, host string) int64 {
	t.Helper()
	var id int64
	eventually(t, fleetWait, "a change of "+host, func() string {
		var page struct{ Changes []struct{ ID int64 } }
		r.must(t, http.MethodGet, "/api/v1/hosts/"+host+"/changes", nil, &page, http.StatusOK)
		if len(page.Changes) == 0 {
			return "none yet"
		}
		id = page.Changes[0].ID
		return ""
	})
	return id
}

// wantStatus waits until change id has status want on the control plane.
func (w *fleetWorld) wantStatus(t *testing.T, r *fleetReplica, id int64, want string, within time.Duration) {
	t.Helper()
	eventually(t, within, fmt.Sprintf("change %d is %s", id, want), func() string {
		var c struct{ Status, Error string }
		r.must(t, http.MethodGet, fmt.Sprintf("/api/v1/changes/%d", id), nil, &c, http.StatusOK)
		if c.Status != want {
			return fmt.Sprintf("it is %s (error %q)", c.Status, c.Error)
		}
		return ""
	})
}

// wantAgree waits until h's kernel, h's file and the control plane's
// record of h's last report all say want: never one without the others.
func (w *fleetWorld) wantAgree(t *testing.T, h *fleetHost, want string) {
	t.Helper()
	eventually(t, fleetWait, h.name+"'s kernel, file and reported range agree on "+want, func() string {
		kernel, file, reported := h.kernel(t), h.fileRange(t), observedRange(w.host(t, h.name).Report)
		if kernel != want || file != want || reported != want {
			return fmt.Sprintf("kernel %q, file %q, reported %q", kernel, file, reported)
		}
		return ""
	})
}
