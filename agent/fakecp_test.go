package agent_test

// fakeCP is a small in-test control plane for the agent's own tests, so
// the agent can be tested before and apart from fleet/. The same scenarios
// run against the real handlers in realcp_test.go. It verifies every
// signature with agentapi.VerifyRequest, as the real one does.

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"portpanel/agent/agenttest"
	"portpanel/agentapi"
)

type fakeCP struct {
	t        *testing.T
	sock     string
	mux      *http.ServeMux
	srv      *http.Server
	replicas []*http.Server
	freezer  agenttest.Freezer

	mu        sync.Mutex
	tokens    map[string]bool // unused tokens
	keys      map[string]ed25519.PublicKey
	prevKeys  map[string]ed25519.PublicKey // the key before a rotation, still good
	revoked   map[string]bool
	nonces    map[string]bool
	gen       int64
	change    *agentapi.DesiredChange
	confirm   []int64
	previews  []agentapi.PreviewRequest
	answers   map[string]agentapi.PreviewResult
	reports   []agentapi.Report
	results   map[int64]agentapi.Result
	refusals  int // 401s answered to signed requests
	wake      chan struct{}
	pollSecs  int
	nextToken int
}

func newFakeCP(t *testing.T) *fakeCP {
	f := &fakeCP{t: t, sock: filepath.Join(t.TempDir(), "agent.sock"), tokens: map[string]bool{}, keys: map[string]ed25519.PublicKey{}, prevKeys: map[string]ed25519.PublicKey{},
		revoked: map[string]bool{}, nonces: map[string]bool{}, answers: map[string]agentapi.PreviewResult{},
		results: map[int64]agentapi.Result{}, wake: make(chan struct{}), pollSecs: 1}
	f.mux = http.NewServeMux()
	f.mux.HandleFunc("POST "+agentapi.PathEnroll, f.enroll)
	f.mux.HandleFunc("GET "+agentapi.PathDesired, f.signed(f.desired))
	f.mux.HandleFunc("POST "+agentapi.PathReport, f.signed(f.report))
	f.mux.HandleFunc("POST "+agentapi.PathPreview, f.signed(f.preview))
	f.mux.HandleFunc("POST "+agentapi.PathRotate, f.signed(f.rotate))
	f.srv = f.serve(f.sock)
	t.Cleanup(func() {
		f.freezer.Thaw()
		f.Stop()
		for _, r := range f.replicas {
			r.Close()
		}
	})
	return f
}

func (f *fakeCP) URL() string { return "unix://" + f.sock }

func (f *fakeCP) serve(sock string) *http.Server {
	ln, err := net.Listen("unix", sock)
	if err != nil {
		f.t.Fatal(err)
	}
	srv := &http.Server{Handler: f.freezer.Wrap(f.mux)}
	go srv.Serve(ln)
	return srv
}

func (f *fakeCP) Replica() string {
	sock := filepath.Join(f.t.TempDir(), "agent.sock")
	f.replicas = append(f.replicas, f.serve(sock))
	return "unix://" + sock
}

func (f *fakeCP) Freeze() { f.freezer.Freeze() }

// Stop is the control plane gone: connections refused from now on.
func (f *fakeCP) Stop() {
	if f.srv != nil {
		f.srv.Close()
		f.srv = nil
	}
}

func (f *fakeCP) Token() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextToken++
	tok := "token-" + strconv.Itoa(f.nextToken)
	f.tokens[tok] = true
	return tok
}

// Set makes dc the host's desired change at a new generation (one host:
// the fake ignores names but for revocation).
func (f *fakeCP) Set(_ string, dc *agentapi.DesiredChange) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gen++
	f.change = dc
	f.notify()
	return f.gen
}

func (f *fakeCP) Confirm(_ string, gen int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.confirm = append(f.confirm, gen)
	f.notify()
}

func (f *fakeCP) Preview(_ string, keys map[string]string) agentapi.PreviewResult {
	f.mu.Lock()
	f.nextToken++
	id := "preview-" + strconv.Itoa(f.nextToken)
	f.previews = append(f.previews, agentapi.PreviewRequest{ID: id, Keys: keys})
	f.notify()
	f.mu.Unlock()
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		f.mu.Lock()
		r, ok := f.answers[id]
		f.mu.Unlock()
		if ok {
			return r
		}
	}
	f.t.Fatal("the agent did not answer the preview")
	return agentapi.PreviewResult{}
}

func (f *fakeCP) Revoke(host string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.revoked[host] = true
}

func (f *fakeCP) Result(_ string, gen int64) (agentapi.Result, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.results[gen]
	return r, ok
}

func (f *fakeCP) LastReport(string) (agentapi.Report, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.reports) == 0 {
		return agentapi.Report{}, false
	}
	return f.reports[len(f.reports)-1], true
}

func (f *fakeCP) Refusals() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.refusals
}

// notify wakes every waiting poll; f.mu is held.
func (f *fakeCP) notify() {
	close(f.wake)
	f.wake = make(chan struct{})
}

func (f *fakeCP) enroll(w http.ResponseWriter, r *http.Request) {
	var req agentapi.EnrollRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	pub, err := agentapi.ParsePublicKey(req.PublicKey)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.tokens[req.Token] {
		http.Error(w, "token refused", http.StatusUnauthorized)
		return
	}
	delete(f.tokens, req.Token)
	f.keys[req.Name], f.revoked[req.Name] = pub, false
	json.NewEncoder(w).Encode(agentapi.EnrollResponse{Name: req.Name, Group: "test", PollSeconds: f.pollSecs})
}

type signedHandler func(w http.ResponseWriter, r *http.Request, host string, body []byte)

func (f *fakeCP) signed(h signedHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, agentapi.MaxBodyBytes))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s, err := agentapi.VerifyRequest(r, body, time.Now(), func(host string) ([]ed25519.PublicKey, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			if f.revoked[host] || f.keys[host] == nil {
				return nil, errors.New("revoked or unknown")
			}
			return []ed25519.PublicKey{f.keys[host], f.prevKeys[host]}, nil
		}, func(host, nonce string, _ time.Time) error {
			f.mu.Lock()
			defer f.mu.Unlock()
			if f.nonces[host+" "+nonce] {
				return errors.New("replayed")
			}
			f.nonces[host+" "+nonce] = true
			return nil
		})
		if err != nil {
			f.mu.Lock()
			f.refusals++
			f.mu.Unlock()
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		h(w, r, s.Host, body)
	}
}

func (f *fakeCP) desired(w http.ResponseWriter, r *http.Request, _ string, _ []byte) {
	after, _ := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	for {
		f.mu.Lock()
		pending := f.gen > after || len(f.previews) > 0 || len(f.confirm) > 0
		d := agentapi.Desired{Generation: f.gen, Change: f.change, Confirm: f.confirm, Previews: f.previews, PollSeconds: f.pollSecs}
		wake := f.wake
		f.mu.Unlock()
		if pending {
			json.NewEncoder(w).Encode(d)
			return
		}
		select {
		case <-wake:
		case <-ctx.Done():
			json.NewEncoder(w).Encode(d)
			return
		}
	}
}

func (f *fakeCP) report(w http.ResponseWriter, _ *http.Request, _ string, body []byte) {
	var rep agentapi.Report
	if err := json.Unmarshal(body, &rep); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reports = append(f.reports, rep)
	for _, res := range rep.Results {
		f.results[res.Generation] = res
		if res.State == agentapi.ResultConfirmed || res.State == agentapi.ResultReverted {
			f.confirm = nil
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

func (f *fakeCP) preview(w http.ResponseWriter, _ *http.Request, _ string, body []byte) {
	var res agentapi.PreviewResult
	if err := json.Unmarshal(body, &res); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.answers[res.ID] = res
	f.previews = nil
	w.WriteHeader(http.StatusNoContent)
}

// rotate installs a new key; the rotation must be signed with the current
// key (not the previous one), as fleet wants.
func (f *fakeCP) rotate(w http.ResponseWriter, r *http.Request, host string, body []byte) {
	var rr agentapi.RotateRequest
	if err := json.Unmarshal(body, &rr); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	s, err := agentapi.Parse(r.Header)
	if err == nil {
		_, err = s.Verify(r, body, time.Now(), f.keys[host])
	}
	if err != nil {
		f.refusals++
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	pub, err := agentapi.CheckRotation(r, s, rr)
	if err != nil {
		http.Error(w, err.Error(), http.StatusUnprocessableEntity)
		return
	}
	f.prevKeys[host], f.keys[host] = f.keys[host], pub
	w.WriteHeader(http.StatusNoContent)
}
