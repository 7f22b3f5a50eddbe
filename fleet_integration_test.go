package main

import (
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"portpanel/change/fault"
	"portpanel/db/dbtest/pgtest"
	"portpanel/sysctl/sysctltest"
)

// TestFleetIntegration runs the fleet as it runs in production, with no
// stand-ins: the control plane as two portpanel serve replicas on one
// PostgreSQL database, and six portpanel agents, each in a network
// namespace of its own with its own config tree, reaching the control
// plane over its Unix sockets (--server names both). Every value checked
// is read from the namespace's real /proc/sys, the managed file and the
// control plane's rows. The steps run in order on one fleet: enrollment
// and token reuse, a remote change with its preview and rollback, a
// change made on one replica reaching an agent polling the other, an
// agent killed between kernel write and report, the control plane
// stopped during a commit-confirmed change, a replica killed, PostgreSQL
// restarted, a host revoked and enrolled again.
//
// It restarts PostgreSQL, so it needs PORTPANEL_TEST_PG_CTL and runs in
// test.sh's serial phase; it needs root for the namespaces.
func TestFleetIntegration(t *testing.T) {
	pgDir := fleetPGDir(t) // before the namespace: without a cluster, skip at once
	pgtest.Skip(t)
	if !sysctltest.InNetns(t) {
		return
	}
	if out, err := exec.Command("ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("ip link set lo up: %v\n%s", err, out)
	}
	w := newFleetWorld(t, buildFaultBinary(t))
	w.checkSameCluster(pgDir)
	a, b := w.startReplica(t, 0), w.startReplica(t, 1)
	var hosts []*fleetHost
	for i := 1; i <= 6; i++ {
		hosts = append(hosts, w.newHost(t, fmt.Sprintf("h%d", i)))
	}
	h1, h2, h3, h4, h5, h6 := hosts[0], hosts[1], hosts[2], hosts[3], hosts[4], hosts[5]
	tokens := map[string]string{}

	t.Run("enroll", func(t *testing.T) {
		began := time.Now()
		for _, h := range hosts {
			tokens[h.name] = w.enrollToken(t, a, "integ")
			w.startAgent(t, h, tokens[h.name], "")
		}
		for _, h := range hosts {
			w.reported(t, h, began, fleetWait, fleetDefault)
			if row := w.host(t, h.name); row.Group != "integ" || row.RevokedAt != nil {
				t.Errorf("%s: group %q revoked %v, want group integ, not revoked", h.name, row.Group, row.RevokedAt)
			}
		}
	})

	t.Run("token-reused", func(t *testing.T) {
		// A second agent, on a host of its own, with h1's spent token.
		dup := w.newHost(t, "h7")
		run := w.startAgent(t, dup, tokens["h1"], "")
		st := run.wait(t, "exit: its only token was spent")
		if st.Success() || !strings.Contains(run.log.String(), "refused the enrollment token") {
			t.Errorf("the agent with a spent token ended with %v, want an error saying the token was refused (401)\n%s", st, run.log)
		}
		if _, err := w.d.HostByName(context.Background(), "h7"); err == nil {
			t.Error("h7 enrolled with h1's token: a token must work once")
		}
		if !slices.ContainsFunc(a.auditEvents(t), func(e auditEvent) bool {
			return e.Action == "enrollment.refused" && strings.Contains(e.Detail, `"h7"`)
		}) {
			t.Error("no enrollment.refused audit event names h7")
		}
		// And the 401 itself, on the agent API: the token is h1's, spent.
		if code, err := enrollStatus(a.sock, tokens["h1"], "h7"); err != nil || code != http.StatusUnauthorized {
			t.Errorf("enrolling with a spent token answered %d %v, want 401", code, err)
		}
	})

	t.Run("remote-change-preview-rollback", func(t *testing.T) {
		before := h1.file(t)
		var pv struct {
			File, Diff string
		}
		a.must(t, http.MethodPost, "/api/v1/hosts/h1/changes", map[string]any{"low": 20000, "high": 40000, "reason": "integration: preview",
			"dry_run": true, "acknowledge": allHazardCodes}, &pv, http.StatusOK)
		if pv.File != h1.conf {
			t.Errorf("the preview names file %q, want h1's %q", pv.File, h1.conf)
		}
		for _, re := range []string{`(?m)^-net\.ipv4\.ip_local_port_range = 32768 60999$`, `(?m)^\+net\.ipv4\.ip_local_port_range = 20000 40000$`} {
			if !regexp.MustCompile(re).MatchString(pv.Diff) {
				t.Errorf("the preview's diff has no line matching %s:\n%s", re, pv.Diff)
			}
		}
		if got := h1.kernel(t); got != fleetDefault || h1.file(t) != before {
			t.Fatalf("a preview changed h1: kernel %q, file changed %v", got, h1.file(t) != before)
		}

		id := w.remoteChange(t, a, "h1", map[string]any{"low": 20000, "high": 40000, "reason": "integration: apply", "acknowledge": allHazardCodes})
		w.wantStatus(t, a, id, "applied", fleetWait)
		w.wantAgree(t, h1, "20000 40000")
		if got := h2.kernel(t); got != fleetDefault {
			t.Errorf("h1's change reached h2: its kernel reads %q", got)
		}

		var rb struct{ ID int64 }
		a.must(t, http.MethodPost, fmt.Sprintf("/api/v1/hosts/h1/changes/%d/rollback", id), map[string]any{"reason": "integration: roll back"}, &rb,
			http.StatusCreated, http.StatusAccepted)
		w.wantStatus(t, a, rb.ID, "applied", fleetWait)
		w.wantAgree(t, h1, fleetDefault)
		if got := h1.file(t); got != before {
			t.Errorf("after the rollback h1's file is not byte for byte what it was:\n%s\nwant:\n%s", got, before)
		}
	})

	t.Run("wake-across-replicas", func(t *testing.T) {
		// The agents keep to replica a; a change made on b must wake
		// h2's long poll on a at once, not after its poll interval.
		began := time.Now()
		answered := w.remoteChangeAsync(b, "h2", map[string]any{"low": 21000, "high": 41000, "reason": "integration: via the other replica", "acknowledge": allHazardCodes})
		eventually(t, 5*time.Second, "h2's kernel takes a change made on the replica it does not poll", func() string {
			if got := h2.kernel(t); got != "21000 41000" {
				return "reads " + got
			}
			return ""
		})
		t.Logf("applied on h2 %s after the request to replica b", time.Since(began).Round(time.Millisecond))
		w.wantStatus(t, b, w.answeredID(t, answered), "applied", fleetWait)
		w.wantAgree(t, h2, "21000 41000")
	})

	t.Run("agent-killed-after-kernel-write", func(t *testing.T) {
		h3.agent.signal(t, syscall.SIGTERM)
		h3.agent.wait(t, "a clean exit after SIGTERM")
		crashed := w.startAgent(t, h3, "", fault.KernelWritten)
		answered := w.remoteChangeAsync(a, "h3", map[string]any{"low": 22000, "high": 42000, "reason": "integration: crash", "acknowledge": allHazardCodes})
		// The answer may come only once the agent is back; any answer
		// before the crash other than "applying" says the request failed.
		var early *answer
		select {
		case <-crashed.done:
		case r := <-answered:
			if r.err != nil || r.code != http.StatusAccepted {
				t.Fatalf("POST /api/v1/hosts/h3/changes answered %d %v before the agent crashed, want 202 (applying)\n%s", r.code, r.err, r.body)
			}
			early = &r
		}
		st := crashed.wait(t, "killed by its fault point "+fault.KernelWritten)
		if ws := st.Sys().(syscall.WaitStatus); !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
			t.Fatalf("the agent ended with %v, want killed by SIGKILL at %s (did the fault point fire?)\n%s", st, fault.KernelWritten, crashed.log)
		}
		// What the crash left: the kernel written, the file not yet.
		if got, file := h3.kernel(t), h3.fileRange(t); got != "22000 42000" || file != fleetDefault {
			t.Errorf("after the crash kernel %q file %q, want the kernel written (22000 42000) and the file not (%s)", got, file, fleetDefault)
		}
		w.startAgent(t, h3, "", "")
		id := w.newestChange(t, a, "h3")
		w.wantStatus(t, a, id, "applied", fleetWait)
		w.wantAgree(t, h3, "22000 42000")
		if left := h3.tempFiles(t); len(left) > 0 {
			t.Errorf("temp files left beside h3's file: %v", left)
		}
		if early == nil {
			r := <-answered
			early = &r
		}
		if r := early; r.err != nil || (r.code != http.StatusCreated && r.code != http.StatusAccepted) {
			t.Errorf("POST /api/v1/hosts/h3/changes answered %d %v, want 201 or 202\n%s", r.code, r.err, r.body)
		}
	})

	t.Run("control-plane-stopped-during-commit-confirmed", func(t *testing.T) {
		const within = 6
		before := h4.file(t)
		id := w.remoteChange(t, a, "h4", map[string]any{"low": 23000, "high": 43000, "reason": "integration: commit confirmed",
			"confirm_within": within, "acknowledge": allHazardCodes})
		answered := time.Now()
		stopped := []*fleetProc{a.proc, b.proc}
		for _, p := range stopped {
			p.signal(t, syscall.SIGSTOP)
		}
		resumed := false
		resume := func() {
			if !resumed {
				for _, p := range stopped {
					p.signal(t, syscall.SIGCONT)
				}
				resumed = true
			}
		}
		defer resume()
		if got := h4.kernel(t); got != "23000 43000" {
			t.Fatalf("h4 reads %q once the change was answered, want 23000 43000 (commit confirmed applies first)", got)
		}
		// The agent's own deadline, from its report; the answer's time
		// plus the window if it reported none (an error of its own).
		deadline := answered.Add(within * time.Second)
		if row := w.host(t, "h4"); row.Applied.Deadline != nil {
			deadline = *row.Applied.Deadline
		} else {
			t.Errorf("h4's last result (%+v) has no revert deadline", row.Applied)
		}
		eventually(t, time.Until(deadline.Add(2*time.Second)), "h4 reverts on its own by the deadline + 2 s with the control plane stopped", func() string {
			if got := h4.kernel(t); got != fleetDefault {
				return "kernel reads " + got
			}
			return ""
		})
		if got := h4.file(t); got != before {
			t.Errorf("after the revert h4's file is not what it was:\n%s", got)
		}
		resume()
		w.wantStatus(t, a, id, "reverted", fleetPoll+5*time.Second)
		w.wantAgree(t, h4, fleetDefault)
	})

	t.Run("replica-killed", func(t *testing.T) {
		killed := time.Now()
		a.proc.kill(t)
		// Back for the next steps, even when this one fails.
		defer w.startReplica(t, 0)
		live := []*fleetHost{h1, h2, h3, h4, h5, h6}
		var wg sync.WaitGroup
		defer wg.Wait() // before the step ends, even when it fails
		for _, h := range live {
			wg.Go(func() {
				// Reports go to b within one poll interval (and a little
				// for the report's own trip).
				if err := w.reportedErr(h, killed, fleetPoll+3*time.Second, ""); err != nil {
					t.Error(err)
				}
			})
		}
		id := w.remoteChange(t, b, "h5", map[string]any{"low": 24000, "high": 44000, "reason": "integration: one replica left", "acknowledge": allHazardCodes})
		w.wantStatus(t, b, id, "applied", fleetPoll)
		w.wantAgree(t, h5, "24000 44000")
	})

	t.Run("postgres-restarted", func(t *testing.T) {
		pgStop(t, pgDir)
		stopped := true
		defer func() {
			if stopped { // this step failed: leave the next ones a working store
				pgStart(t, pgDir)
				w.answering(t)
			}
		}()
		for _, r := range w.replicas {
			if code, body, err := r.call(http.MethodGet, "/api/v1/changes", nil); err != nil || code != http.StatusServiceUnavailable {
				t.Errorf("GET /api/v1/changes on %s with PostgreSQL down: %d %v, want 503\n%s", r.name, code, err, body)
			}
			if code, err := enrollStatus(r.sock, "no such token", "h8"); err != nil || code != http.StatusServiceUnavailable {
				t.Errorf("the agent API on %s with PostgreSQL down answered %d %v, want 503", r.name, code, err)
			}
		}
		time.Sleep(2 * time.Second) // the agents' requests fail meanwhile
		pgStart(t, pgDir)
		stopped = false
		up := time.Now()
		w.answering(t)
		var wg sync.WaitGroup
		defer wg.Wait() // before the step ends, even when it fails
		for _, h := range hosts {
			wg.Go(func() {
				if err := w.reportedErr(h, up, fleetPoll+fleetWait, ""); err != nil {
					t.Error(err)
				}
			})
		}
		// Which replica h6 polls now is the agent's choice: the change
		// must reach it within a poll interval either way.
		answered := w.remoteChangeAsync(w.replicas[0], "h6", map[string]any{"low": 25000, "high": 45000, "reason": "integration: after the restart", "acknowledge": allHazardCodes})
		eventually(t, fleetPoll+5*time.Second, "h6 takes a change made after the restart", func() string {
			if got := h6.kernel(t); got != "25000 45000" {
				return "reads " + got
			}
			return ""
		})
		w.wantStatus(t, w.replicas[0], w.answeredID(t, answered), "applied", fleetWait)
		w.wantAgree(t, h6, "25000 45000")
	})

	t.Run("host-revoked", func(t *testing.T) {
		key := crashRead(t, h5.state+"/host.key")
		r := w.replicas[1]
		row := w.revoke(t, r, "h5")
		revoked := time.Now()
		if row.RevokedAt == nil {
			t.Fatal("h5 is not revoked on the control plane")
		}
		eventually(t, fleetPoll+fleetWait, "h5's next request is refused (401) and audited", func() string {
			if !strings.Contains(h5.agent.log.String(), "refused this host's credential") {
				return "the agent has not logged a refused credential"
			}
			if !slices.ContainsFunc(r.auditEvents(t), func(e auditEvent) bool { return e.Action == "host.refused" && strings.Contains(e.Detail, `"h5"`) }) {
				return "no host.refused audit event names h5"
			}
			return ""
		})
		if h5.agent.exited() {
			t.Errorf("the revoked agent exited (%v): a 401 must not end it", h5.agent.cmd.ProcessState)
		}
		if got := crashRead(t, h5.state+"/host.key"); got != key {
			t.Error("the revoked agent's key changed: a 401 must never touch it")
		}
		// A new token brings it back, with the key it has.
		token := w.enrollToken(t, r, "integ")
		h5.agent.signal(t, syscall.SIGTERM)
		h5.agent.wait(t, "a clean exit after SIGTERM")
		w.startAgent(t, h5, token, "")
		w.reported(t, h5, revoked, fleetWait, h5.kernel(t))
		back := w.host(t, "h5")
		if back.RevokedAt != nil || back.PublicKey != row.PublicKey {
			t.Errorf("h5 after a new token: revoked %v, key kept %v; want not revoked, the same key", back.RevokedAt, back.PublicKey == row.PublicKey)
		}
		if got := crashRead(t, h5.state+"/host.key"); got != key {
			t.Error("enrolling again replaced the agent's key")
		}
	})
}
