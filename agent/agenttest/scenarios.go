package agenttest

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"portpanel/agentapi"
	"portpanel/db"
	"portpanel/sysctl"
	"portpanel/sysctl/sysctltest"
)

// ControlPlane is what the scenarios need of a control plane. Its
// methods fail the test they were made for on error.
type ControlPlane interface {
	// URL is the agent listener, unix:///PATH.
	URL() string
	// Token is a new one-time enrollment token.
	Token() string
	// Set gives host a new generation carrying dc and returns it.
	Set(host string, dc *agentapi.DesiredChange) int64
	// Confirm confirms generation gen of host.
	Confirm(host string, gen int64)
	// Preview asks host's agent what setting keys would do, and waits for
	// the answer.
	Preview(host string, keys map[string]string) agentapi.PreviewResult
	// Revoke revokes host's credential.
	Revoke(host string)
	// Result is what host reported of generation gen.
	Result(host string, gen int64) (agentapi.Result, bool)
	// LastReport is host's last accepted report; At is when it was
	// accepted.
	LastReport(host string) (agentapi.Report, bool)
	// Refusals counts the 401s answered so far.
	Refusals() int
	// Replica opens another listener of the same control plane (as a
	// second replica on the same database would) and returns its URL.
	Replica() string
	// Stop closes the first listener (URL): connections to it are
	// refused from now on. Replicas go on.
	Stop()
	// Freeze holds every request without an answer (kill -STOP), until
	// the test ends.
	Freeze()
}

// Scenario is one behaviour of the agent.
type Scenario struct {
	Name string
	Run  func(t *testing.T, cp ControlPlane)
}

// Scenarios are the agent's behaviours that need no fault-injecting
// build (Kill9 does).
var Scenarios = []Scenario{
	{"EnrollThenRestartWithoutToken", enrollThenRestart},
	{"ApplyThroughThePipeline", applyThroughThePipeline},
	{"RollbackByteForByte", rollbackByteForByte},
	{"RefusalsReportedAsFailed", refusals},
	{"ObserveOnlyRefusesEveryChange", observeOnly},
	{"RevertWhenTheControlPlaneIsGone", revertWhen(ControlPlane.Stop)},
	{"RevertWhenTheControlPlaneHangs", revertWhen(ControlPlane.Freeze)},
	{"RevertAcrossAgentRestart", revertAcrossRestart},
	{"RevertWhileEnrolling", revertWhileEnrolling},
	{"ConfirmKeepsTheChange", confirmKeeps},
	{"UnauthorizedBacksOffAndKeepsTheKey", unauthorized},
	{"FailOverToTheNextServer", failover},
	{"RotateKeyWithoutDowntime", rotateKey},
	{"RotationInterruptedByACrash", rotationInterrupted},
	{"ManyListenersStillFit", manyListeners},
}

// Run runs every scenario as a subtest against a new control plane, each
// in a private network namespace.
func Run(t *testing.T, newCP func(t *testing.T) ControlPlane) {
	for _, s := range Scenarios {
		t.Run(s.Name, func(t *testing.T) {
			if !sysctltest.InNetns(t) {
				return
			}
			s.Run(t, newCP(t))
		})
	}
}

// reportAfter waits for a report made after t0.
func reportAfter(t *testing.T, cp ControlPlane, host string, t0 time.Time) agentapi.Report {
	t.Helper()
	var rep agentapi.Report
	eventually(t, 10*time.Second, "a report", func() bool {
		var ok bool
		rep, ok = cp.LastReport(host)
		return ok && rep.At.After(t0)
	})
	return rep
}

func enrollThenRestart(t *testing.T, cp ControlPlane) {
	h := newHost(t, cp.URL())
	if err := h.tryStart(""); err == nil || !strings.Contains(err.Error(), "--enroll-token") {
		t.Fatalf("an unenrolled start without a token: %v, want it to ask for --enroll-token", err)
	}
	token := cp.Token()
	h.start(token)
	rep := reportAfter(t, cp, h.cfg.Name, time.Time{})
	if rep.Observed.Runtime != (agentapi.Range{Low: defaultRange.Low, High: defaultRange.High}) || rep.Observed.File != h.file {
		t.Errorf("report observed %+v", rep.Observed)
	}
	if rep.Observed.UnprivilegedPortStart != 1024 || rep.Observed.Boot.Reader != "procps" || rep.Version == "" || rep.PollSeconds != 1 {
		t.Errorf("report %+v", rep)
	}
	keyFile := filepath.Join(h.cfg.StateDir, "host.key")
	key := mode(t, keyFile)
	if key != 0o600 || mode(t, h.cfg.StateDir) != 0o700 {
		t.Errorf("key file %o, state dir %o; want 0600 and 0700", key, mode(t, h.cfg.StateDir))
	}
	keyBytes, _ := os.ReadFile(keyFile)
	h.stop()

	// Restart: the state dir is enough, and the spent token, still
	// passed, is not sent again.
	for _, tok := range []string{"", token} {
		t0 := time.Now()
		h.start(tok)
		reportAfter(t, cp, h.cfg.Name, t0)
		h.stop()
	}
	if again, _ := os.ReadFile(keyFile); string(again) != string(keyBytes) {
		t.Error("the host key changed across restarts")
	}
}

func applyThroughThePipeline(t *testing.T, cp ControlPlane) {
	h := enrolledHost(t, cp)

	pv := cp.Preview(h.cfg.Name, map[string]string{agentapi.KeyRange: "20000 40000"})
	if pv.Error != "" || pv.File != h.file || !strings.Contains(pv.Diff, "+"+rangeLine("20000 40000")) {
		t.Errorf("preview = %+v", pv)
	}
	if h.kernel() != defaultRange {
		t.Fatal("a preview changed the kernel")
	}

	gen := cp.Set(h.cfg.Name, setRange("20000 40000", "INC-1: more ports"))
	resultOf(t, cp, h.cfg.Name, gen, agentapi.ResultApplied, 10*time.Second)
	if got := h.kernel(); got != (sysctl.Range{Low: 20000, High: 40000}) {
		t.Errorf("/proc/sys has %v", got)
	}
	if got := h.fileText(); got != baseConf+rangeLine("20000 40000") {
		t.Errorf("file = %q", got)
	}
	t0 := time.Now()
	rep := reportAfter(t, cp, h.cfg.Name, t0)
	if rep.Observed.Runtime.Low != 20000 || rep.Observed.Boot.File != h.file || rep.Observed.Boot.Line != 3 || rep.Observed.Drift {
		t.Errorf("observed after the change: %+v", rep.Observed)
	}
	h.stop()
	j := h.journal()
	if len(j) != 1 || j[0].UserID != gen || j[0].Status != db.StatusApplied || j[0].Reason != "INC-1: more ports" {
		t.Errorf("journal = %+v, want one applied change of generation %d", j, gen)
	}
	// A restart does not apply the generation again.
	h.start("")
	reportAfter(t, cp, h.cfg.Name, time.Now())
	h.stop()
	if n := len(h.journal()); n != 1 {
		t.Errorf("%d local changes after a restart, want 1", n)
	}
}

func refusals(t *testing.T, cp ControlPlane) {
	h := enrolledHost(t, cp)
	for _, c := range []struct {
		name string
		dc   *agentapi.DesiredChange
		want string
	}{
		{"below ip_unprivileged_port_start", setRange("80 90", "low"), "ip_unprivileged_port_start"},
		{"low above high", setRange("40000 30000", "swap"), "must not exceed"},
		{"not two numbers", setRange("1 2 3", "three"), "not two port numbers"},
		{"another key", &agentapi.DesiredChange{Operation: agentapi.OpSet, Keys: map[string]string{"kernel.core_pattern": "|/bin/sh"}}, "sets only"},
		{"another operation", &agentapi.DesiredChange{Operation: "exec", Keys: map[string]string{agentapi.KeyRange: "20000 40000"}}, "not an operation"},
		{"hazard not acknowledged", setRange("40000 40100", "tiny"), "small-range"},
		{"bad reserved ports", &agentapi.DesiredChange{Operation: agentapi.OpSet, Keys: map[string]string{agentapi.KeyReserved: "70000"}, Reason: "r"}, "70000"},
		{"rollback of nothing", &agentapi.DesiredChange{Operation: agentapi.OpRollback, RollbackOf: 99}, "could be rolled back"},
	} {
		gen := cp.Set(h.cfg.Name, c.dc)
		res := resultOf(t, cp, h.cfg.Name, gen, agentapi.ResultFailed, 10*time.Second)
		if !strings.Contains(res.Error, c.want) {
			t.Errorf("%s: error %q, want it to mention %q", c.name, res.Error, c.want)
		}
		if h.kernel() != defaultRange || h.fileText() != baseConf {
			t.Fatalf("%s: kernel %v, file %q: changed", c.name, h.kernel(), h.fileText())
		}
	}
	// Acknowledged, the hazardous one applies.
	dc := setRange("40000 40100", "tiny, on purpose")
	dc.Acknowledge = []string{"small-range"}
	gen := cp.Set(h.cfg.Name, dc)
	resultOf(t, cp, h.cfg.Name, gen, agentapi.ResultApplied, 10*time.Second)
	if h.kernel() != (sysctl.Range{Low: 40000, High: 40100}) {
		t.Errorf("kernel %v", h.kernel())
	}
}

func observeOnly(t *testing.T, cp ControlPlane) {
	h := newHost(t, cp.URL())
	h.cfg.ObserveOnly = true
	h.start(cp.Token())
	reportAfter(t, cp, h.cfg.Name, time.Time{})
	gen := cp.Set(h.cfg.Name, setRange("20000 40000", "INC-2"))
	res := resultOf(t, cp, h.cfg.Name, gen, agentapi.ResultFailed, 10*time.Second)
	if !strings.Contains(res.Error, "observe-only") {
		t.Errorf("error %q", res.Error)
	}
	if rep := reportAfter(t, cp, h.cfg.Name, time.Now()); !rep.ObserveOnly {
		t.Error("the report does not say observe-only")
	}
	if h.kernel() != defaultRange || h.fileText() != baseConf || len(h.journal()) != 0 {
		t.Error("an observe-only agent changed something")
	}
}

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

// With two --server URLs, the agent carries on through the second within
// a poll interval of the first going away.
func failover(t *testing.T, cp ControlPlane) {
	h := newHost(t, cp.URL())
	h.cfg.Servers = append(h.cfg.Servers, cp.Replica())
	h.start(cp.Token())
	reportAfter(t, cp, h.cfg.Name, time.Time{})
	cp.Stop()
	gen := cp.Set(h.cfg.Name, setRange("20000 40000", "INC-5"))
	// One poll interval (1 s here), and room for a loaded machine.
	resultOf(t, cp, h.cfg.Name, gen, agentapi.ResultApplied, 5*time.Second)
	if h.kernel() != target {
		t.Errorf("kernel %v", h.kernel())
	}
	t0 := time.Now()
	reportAfter(t, cp, h.cfg.Name, t0)
}

// A set of both keys, then its rollback as a later generation: the
// kernel gets both values back and the file its bytes.
func rollbackByteForByte(t *testing.T, cp ControlPlane) {
	h := enrolledHost(t, cp)
	dc := setRange("20000 40001", "INC-6: room, and a listener kept out")
	dc.Keys[agentapi.KeyReserved] = "20080,30000-30009"
	gen := cp.Set(h.cfg.Name, dc)
	resultOf(t, cp, h.cfg.Name, gen, agentapi.ResultApplied, 10*time.Second)
	k := sysctl.Kernel{ProcSys: h.cfg.ProcSys}
	if reserved, err := k.ReadReserved(); err != nil || reserved != "20080,30000-30009" || h.kernel() != (sysctl.Range{Low: 20000, High: 40001}) {
		t.Fatalf("kernel %v, reserved %q (%v)", h.kernel(), reserved, err)
	}
	back := cp.Set(h.cfg.Name, &agentapi.DesiredChange{Operation: agentapi.OpRollback, RollbackOf: gen, Reason: "INC-6 done", Author: "bob"})
	resultOf(t, cp, h.cfg.Name, back, agentapi.ResultApplied, 10*time.Second)
	if reserved, _ := k.ReadReserved(); reserved != "" || h.kernel() != defaultRange {
		t.Errorf("after the rollback: kernel %v, reserved %q", h.kernel(), reserved)
	}
	if got := h.fileText(); got != baseConf {
		t.Errorf("file after the rollback = %q, want it byte for byte as before", got)
	}
	// Rolled back already: a second rollback of it is refused.
	again := cp.Set(h.cfg.Name, &agentapi.DesiredChange{Operation: agentapi.OpRollback, RollbackOf: gen, Reason: "twice"})
	resultOf(t, cp, h.cfg.Name, again, agentapi.ResultFailed, 10*time.Second)
}

// More listeners inside the range than a report lists: the first ones and
// a warning, and the report still fits the control plane's size limit.
func manyListeners(t *testing.T, cp ControlPlane) {
	lim := syscall.Rlimit{Cur: 4096, Max: 4096}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	for port := 40000; port < 41100; port++ {
		ln, err := net.Listen("tcp4", fmt.Sprintf("0.0.0.0:%d", port))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
	}
	h := enrolledHost(t, cp)
	rep, _ := cp.LastReport(h.cfg.Name)
	if len(rep.Observed.Listeners) != 1000 || !slices.ContainsFunc(rep.Observed.Warnings, func(w string) bool {
		return strings.Contains(w, "1100 listening ports")
	}) {
		t.Errorf("%d listeners reported, warnings %q", len(rep.Observed.Listeners), rep.Observed.Warnings)
	}
}
