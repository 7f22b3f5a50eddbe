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
)

// The user API and agent API calls of TestFleetIntegration.

// enrollToken makes a one-time enrollment token for group with POST
// /api/v1/enrollments.
func (w *fleetWorld) enrollToken(t *testing.T, r *fleetReplica, group string) string {
	t.Helper()
	var tok struct{ Token, Group string }
	r.must(t, http.MethodPost, "/api/v1/enrollments", map[string]any{"group": group}, &tok, http.StatusCreated)
	if tok.Token == "" || tok.Group != group {
		t.Fatalf("POST /api/v1/enrollments made token %q for group %q, want one for %q", tok.Token, tok.Group, group)
	}
	return tok.Token
}

// revoke revokes host name with POST /api/v1/hosts/NAME/revoke and
// returns its row.
func (w *fleetWorld) revoke(t *testing.T, r *fleetReplica, name string) db.Host {
	t.Helper()
	r.must(t, http.MethodPost, "/api/v1/hosts/"+name+"/revoke", nil, nil, http.StatusOK)
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
func enrollStatus(sock, token, name string) (int, error) {
	pub, _, err := agentapi.GenerateKey()
	if err != nil {
		return 0, err
	}
	body, _ := json.Marshal(agentapi.EnrollRequest{Token: token, Name: name, PublicKey: agentapi.EncodePublicKey(pub)})
	hc := &http.Client{Timeout: fleetWait, Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}}
	resp, err := hc.Post("http://agent.sock"+agentapi.PathEnroll, "application/json", bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("POST %s on %s: %w", agentapi.PathEnroll, sock, err)
	}
	resp.Body.Close()
	return resp.StatusCode, nil
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
		var c struct{ Status, Host string }
		path := fmt.Sprintf("/api/v1/changes/%d", id)
		r.must(t, http.MethodGet, path, nil, &c, http.StatusOK)
		if c.Status == want {
			return ""
		}
		// All the control plane knows of it, for the failure message.
		_, body, _ := r.call(http.MethodGet, path, nil)
		row, err := w.d.HostByName(context.Background(), c.Host)
		return fmt.Sprintf("it is %s: %s\nits host's row: generation %d, last result %+v, reported at %s (%v)",
			c.Status, body, row.Generation, row.Applied, stampOf(row.ReportedAt), err)
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
