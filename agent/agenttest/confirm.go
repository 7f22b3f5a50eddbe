package agenttest

import (
	"context"
	"crypto/ed25519"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"portpanel/agent"
	"portpanel/agentapi"
	"portpanel/db"
	"portpanel/sysctl"
)

var target = sysctl.Range{Low: 20000, High: 40000}

// unconfirmed is an enrolled host with 20000 40000 applied, to be
// confirmed within seconds: the generation and its reported result.
func unconfirmed(t *testing.T, cp ControlPlane, within int) (*Host, int64, agentapi.Result) {
	t.Helper()
	h := enrolledHost(t, cp)
	gen := cp.Set(h.cfg.Name, confirmed("20000 40000", within))
	return h, gen, resultOf(t, cp, h.cfg.Name, gen, agentapi.ResultUnconfirmed, 10*time.Second)
}

func confirmed(r string, within int) *agentapi.DesiredChange {
	dc := setRange(r, "INC-3: try it")
	dc.ConfirmWithin = within
	return dc
}

// The control plane stops (or hangs) after sending a commit-confirmed
// change: the agent reverts on its own by the deadline + 2 s.
func revertWhen(gone func(ControlPlane)) func(t *testing.T, cp ControlPlane) {
	return func(t *testing.T, cp ControlPlane) { revertWhenGone(t, cp, gone) }
}

func revertWhenGone(t *testing.T, cp ControlPlane, gone func(ControlPlane)) {
	h, _, res := unconfirmed(t, cp, 2)
	if h.kernel() != target || res.Deadline.IsZero() {
		t.Fatalf("kernel %v, deadline %v", h.kernel(), res.Deadline)
	}
	gone(cp)
	// Kernel, then file, then journal: the revert is done when the
	// journal says so.
	eventually(t, time.Until(res.Deadline)+2*time.Second, "the revert by the deadline + 2 s", func() bool {
		j := h.journal()
		return h.kernel() == defaultRange && len(j) == 2 && j[1].Status == db.StatusReverted && j[0].Status == db.StatusApplied
	})
	if got := h.fileText(); got != baseConf {
		t.Errorf("file after the revert = %q, want it byte for byte as before", got)
	}
	if j := h.journal(); j[0].User != "portpanel" || j[0].RollbackOf == nil || *j[0].RollbackOf != j[1].ID {
		t.Errorf("the revert is %+v, want portpanel's rollback of change #%d", j[0], j[1].ID)
	}
}

// The agent is down when the deadline passes: it reverts at its next
// start, before talking to anyone, and reports reverted.
func revertAcrossRestart(t *testing.T, cp ControlPlane) {
	h, gen, res := unconfirmed(t, cp, 2)
	h.stop()
	time.Sleep(time.Until(res.Deadline) + 200*time.Millisecond)
	if h.kernel() != target {
		t.Fatal("reverted while the agent was down?")
	}
	h.start("")
	eventually(t, 5*time.Second, "the revert at start", func() bool { return h.kernel() == defaultRange })
	resultOf(t, cp, h.cfg.Name, gen, agentapi.ResultReverted, 10*time.Second)
}

// The agent restarts with a new enrollment token while the control plane
// is gone: its enrollment waits, its deadline does not.
func revertWhileEnrolling(t *testing.T, cp ControlPlane) {
	h, _, res := unconfirmed(t, cp, 2)
	h.stop()
	token := cp.Token()
	cp.Stop()
	h.start(token)
	eventually(t, time.Until(res.Deadline)+2*time.Second, "the revert by the deadline + 2 s", func() bool {
		return h.kernel() == defaultRange
	})
}

// A confirmation in time keeps the change.
func confirmKeeps(t *testing.T, cp ControlPlane) {
	h, gen, res := unconfirmed(t, cp, 3)
	cp.Confirm(h.cfg.Name, gen)
	resultOf(t, cp, h.cfg.Name, gen, agentapi.ResultConfirmed, 10*time.Second)
	time.Sleep(time.Until(res.Deadline) + 1500*time.Millisecond)
	if h.kernel() != target {
		t.Errorf("kernel %v after a confirmed deadline, want %v", h.kernel(), target)
	}
}

// A revoked host keeps its key and state, backs off, and comes back with
// a new token and the same key.
func unauthorized(t *testing.T, cp ControlPlane) {
	h := enrolledHost(t, cp)
	files := stateFiles(t, h.cfg.StateDir)
	cp.Revoke(h.cfg.Name)
	before := cp.Refusals()
	eventually(t, 10*time.Second, "refused requests", func() bool { return cp.Refusals() >= before+3 })
	if !h.running() {
		t.Fatal("the agent stopped on a 401")
	}
	if !strings.Contains(h.log.String(), "refused this host's credential") {
		t.Errorf("log says nothing of the refusal:\n%s", h.log.String())
	}
	// Backing off: a few refusals a second, not hundreds.
	n0 := cp.Refusals()
	time.Sleep(time.Second)
	if n := cp.Refusals() - n0; n > 12 {
		t.Errorf("%d refused requests in a second: no backoff", n)
	}
	h.stop()
	for name, content := range files {
		if now, err := os.ReadFile(filepath.Join(h.cfg.StateDir, name)); err != nil || string(now) != content {
			t.Errorf("%s changed or went away after the 401s (%v)", name, err)
		}
	}
	// Back with a new token and the same key.
	h.start(cp.Token())
	reportAfter(t, cp, h.cfg.Name, time.Time{})
	t0 := time.Now()
	reportAfter(t, cp, h.cfg.Name, t0)
	if now, _ := os.ReadFile(filepath.Join(h.cfg.StateDir, "host.key")); string(now) != files["host.key"] {
		t.Error("re-enrolling made a new key")
	}
}

// stateFiles reads the state dir's small files.
func stateFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, name := range []string{"host.key", "enrollment.json"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		out[name] = string(b)
	}
	if _, err := os.Stat(filepath.Join(dir, "journal.db")); err != nil {
		t.Fatal(err)
	}
	return out
}

// A key old enough is replaced without a refused request, and reports go
// on with the new one.
func rotateKey(t *testing.T, cp ControlPlane) {
	h := enrolledHost(t, cp)
	h.stop()
	keyFile := filepath.Join(h.cfg.StateDir, "host.key")
	old, _ := os.ReadFile(keyFile)
	ago := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(keyFile, ago, ago); err != nil {
		t.Fatal(err)
	}
	refused := cp.Refusals()
	h.cfg.RotateEvery = time.Hour
	h.start("")
	eventually(t, 10*time.Second, "a new host key", func() bool {
		now, _ := os.ReadFile(keyFile)
		return len(now) > 0 && string(now) != string(old)
	})
	reportAfter(t, cp, h.cfg.Name, time.Now())
	if n := cp.Refusals() - refused; n != 0 {
		t.Errorf("%d requests refused during the rotation", n)
	}
	if mode(t, keyFile) != 0o600 {
		t.Errorf("new key file mode %o", mode(t, keyFile))
	}
	h.stop()
	// Past the control plane's grace for the old key, only the new one
	// is known: a restart must use it.
	t0 := time.Now()
	h.start("")
	reportAfter(t, cp, h.cfg.Name, t0)
}

// The control plane took a rotation, and the agent died before it
// installed the new key: at its next start it finds that the control
// plane knows only the new key and installs it.
func rotationInterrupted(t *testing.T, cp ControlPlane) {
	h := enrolledHost(t, cp)
	h.stop()
	st, err := agent.OpenState(h.cfg.StateDir)
	if err != nil {
		t.Fatal(err)
	}
	current, _ := st.Key()
	next, _ := st.NextKey()
	c, err := agent.NewClient(h.cfg.Servers, "")
	if err != nil {
		t.Fatal(err)
	}
	c.SetIdentity(h.cfg.Name, current)
	if err := c.Rotate(context.Background(), next); err != nil {
		t.Fatal(err)
	}
	// What the control plane has now: the new key, and the old one for
	// a grace period, which a rotation signed with it does not use.
	h.start("")
	eventually(t, 10*time.Second, "the new key installed", func() bool { return !st.HasNextKey() })
	if !next.Equal(mustKey(t, st)) {
		t.Error("the key installed is not the one the control plane took")
	}
	t0 := time.Now()
	reportAfter(t, cp, h.cfg.Name, t0)
}

func mustKey(t *testing.T, st *agent.State) ed25519.PrivateKey {
	t.Helper()
	k, err := st.Key()
	if err != nil {
		t.Fatal(err)
	}
	return k
}
