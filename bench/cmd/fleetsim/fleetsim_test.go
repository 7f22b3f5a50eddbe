package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"portpanel/agentapi"
)

// fakePlane is the least control plane the simulator needs, verifying
// every signature as the real one must: it lets the simulator be tested
// without a database.
type fakePlane struct {
	mu      sync.Mutex
	tokens  map[string]bool
	hosts   map[string]*fakeHost
	nonces  map[string]bool
	results map[string][]agentapi.Result
	refused int
}

type fakeHost struct {
	key    ed25519.PublicKey
	gen    int64
	change *agentapi.DesiredChange
	wake   chan struct{}
}

func (f *fakePlane) agentAPI(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if r.URL.Path == agentapi.PathEnroll {
		var in agentapi.EnrollRequest
		_ = json.Unmarshal(body, &in)
		pub, err := agentapi.ParsePublicKey(in.PublicKey)
		f.mu.Lock()
		defer f.mu.Unlock()
		if !f.tokens[in.Token] || err != nil || f.hosts[in.Name] != nil {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		delete(f.tokens, in.Token)
		f.hosts[in.Name] = &fakeHost{key: pub, wake: make(chan struct{})}
		_ = json.NewEncoder(w).Encode(agentapi.EnrollResponse{Name: in.Name, Group: "sim", PollSeconds: 30})
		return
	}
	s, err := agentapi.VerifyRequest(r, body, time.Now(),
		func(host string) ([]ed25519.PublicKey, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			if h := f.hosts[host]; h != nil {
				return []ed25519.PublicKey{h.key}, nil
			}
			return nil, errors.New("unknown host")
		},
		func(host, nonce string, _ time.Time) error {
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
		f.refused++
		f.mu.Unlock()
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	switch r.URL.Path {
	case agentapi.PathDesired:
		after, _ := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
		wait, _ := strconv.Atoi(r.URL.Query().Get("wait"))
		f.mu.Lock()
		h := f.hosts[s.Host]
		wake, gen := h.wake, h.gen
		f.mu.Unlock()
		if gen <= after {
			select {
			case <-wake:
			case <-time.After(time.Duration(wait) * time.Second):
			case <-r.Context().Done():
			}
		}
		f.mu.Lock()
		d := agentapi.Desired{Generation: h.gen, Change: h.change, PollSeconds: wait}
		f.mu.Unlock()
		_ = json.NewEncoder(w).Encode(d)
	case agentapi.PathReport:
		var rep agentapi.Report
		if err := json.Unmarshal(body, &rep); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.results[s.Host] = append(f.results[s.Host], rep.Results...)
		f.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	default:
		http.NotFound(w, r)
	}
}

func (f *fakePlane) userAPI(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer admin-token" {
		http.Error(w, "no", http.StatusUnauthorized)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.URL.Path == "/api/v1/enrollments" {
		tok := fmt.Sprintf("tok-%d", len(f.tokens)+len(f.hosts))
		f.tokens[tok] = true
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(map[string]string{"token": tok})
		return
	}
	name, ok := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, "/api/v1/hosts/"), "/changes")
	h := f.hosts[name]
	if !ok || h == nil {
		http.NotFound(w, r)
		return
	}
	var in struct{ Low, High int }
	_ = json.NewDecoder(r.Body).Decode(&in)
	h.gen++
	h.change = &agentapi.DesiredChange{Operation: agentapi.OpSet,
		Keys: map[string]string{agentapi.KeyRange: fmt.Sprintf("%d %d", in.Low, in.High)}}
	close(h.wake)
	h.wake = make(chan struct{})
	w.WriteHeader(http.StatusAccepted)
}

func TestFleetsimAgainstAFakeControlPlane(t *testing.T) {
	f := &fakePlane{tokens: map[string]bool{}, hosts: map[string]*fakeHost{},
		nonces: map[string]bool{}, results: map[string][]agentapi.Result{}}
	sock := filepath.Join(t.TempDir(), "agent.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	agentSrv := &http.Server{Handler: http.HandlerFunc(f.agentAPI)}
	go agentSrv.Serve(ln)
	defer agentSrv.Close()
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	userSrv := &http.Server{Handler: http.HandlerFunc(f.userAPI)}
	go userSrv.Serve(tcp)
	defer userSrv.Close()

	t.Setenv("FLEETSIM_TEST_TOKEN", "admin-token")
	o := options{server: "unix://" + sock, api: "http://" + tcp.Addr().String(), tokenEnv: "FLEETSIM_TEST_TOKEN",
		group: "sim", prefix: "t-", pid: strconv.Itoa(os.Getpid()), pgPID: strconv.Itoa(os.Getppid()), hosts: 40, enrollC: 4, rounds: 2,
		changes: 3, poll: time.Second, round: 500 * time.Millisecond, warm: 200 * time.Millisecond, gap: 10 * time.Millisecond}
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := run(ctx, o, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	t.Log(out.String())
	for _, want := range []string{`^# enrolled 40 of 40 hosts`, `(?m)^hosts=40 cpu_cores=\S+ pg_cores=\S+ rss_mb=[1-9]`,
		`applied_p50_ms=\S+`, `changes=3 changes_failed=0 unauthorized=0 errors=0`} {
		if !regexp.MustCompile(want).MatchString(out.String()) {
			t.Errorf("output does not match %s", want)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	applied := 0
	for _, rs := range f.results {
		for _, r := range rs {
			if r.State == agentapi.ResultApplied {
				applied++
			}
		}
	}
	if applied != 3 || f.refused != 0 {
		t.Errorf("the control plane got %d applied results and refused %d requests, want 3 and 0", applied, f.refused)
	}
}
