package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"portpanel/change/fault"
	"portpanel/sysctl/sysctltest"
)

// TestCrashDuringApply kills a real portpanel process (built with the
// faultinject tag) at each step of the apply pipeline, restarts it on the
// same database and files, and checks that Recover leaves kernel, file and
// database agreeing: a change that reached kernel and file is recorded as
// applied, anything less is undone and recorded as failed ("interrupted").
// The kernel is that of a private network namespace; files live in temp
// dirs.
func TestCrashDuringApply(t *testing.T) {
	// First, so the subtests run in the namespace and never on the host.
	if !sysctltest.InNetns(t) {
		return
	}
	if out, err := exec.Command("ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("ip link set lo up: %v\n%s", err, out)
	}
	bin := buildFaultBinary(t)

	cases := []crashCase{
		{point: fault.IntentRecorded, status: "failed", audit: "change.interrupted"},
		// A change of the range alone has one key: its first is its last.
		{point: fault.KernelFirstWritten, crashKernelNew: true, status: "failed", audit: "change.interrupted"},
		{point: fault.KernelWritten, crashKernelNew: true, status: "failed", audit: "change.interrupted"},
		{point: fault.TempWritten, crashKernelNew: true, crashTemp: true, status: "failed", audit: "change.interrupted"},
		{point: fault.FileRenamed, crashKernelNew: true, crashFileNew: true, status: "applied", kernelNew: true, fileNew: true, audit: "change.recovered"},
		{point: fault.DBUpdated, crashKernelNew: true, crashFileNew: true, status: "applied", kernelNew: true, fileNew: true},
	}
	// A point added to the pipeline must get a case here.
	for _, p := range fault.Points {
		if !slices.ContainsFunc(cases, func(c crashCase) bool { return c.point == p }) {
			t.Errorf("fault point %q has no case", p)
		}
	}

	for _, tc := range cases {
		t.Run(tc.point, func(t *testing.T) {
			e := newCrashEnv(t, bin)
			crashed := e.start("run with PORTPANEL_FAULT="+tc.point, tc.point)
			code, body, err := crashed.call(http.MethodPost, "/api/v1/changes", map[string]any{"low": 20000, "high": 40000, "reason": "crash test", "acknowledge": allHazardCodes})
			// Only after db-updated may the answer get out before the kill.
			if err == nil && (tc.point != fault.DBUpdated || code != http.StatusCreated) {
				t.Fatalf("POST /api/v1/changes answered %d, want the process killed at %s\n%s", code, tc.point, body)
			}
			crashed.wantKilled()
			e.wantKernel("after the crash", tc.crashKernelNew)
			e.wantFile("after the crash", tc.crashFileNew)
			if left := e.tempFiles(); (len(left) > 0) != tc.crashTemp {
				t.Errorf("after the crash the temp files are %v; want a temp file left: %v", left, tc.crashTemp)
			}

			srv := e.start("restart", "")
			c := srv.change(1)
			if c.Status != tc.status {
				t.Errorf("after the restart change 1 is %s (error %q), want %s", c.Status, c.Error, tc.status)
			}
			if tc.status == "failed" && !strings.HasPrefix(c.Error, "interrupted") {
				t.Errorf("change 1 failed with error %q, want it to start with \"interrupted\"", c.Error)
			}
			if tc.status == "applied" && c.Error != "" {
				t.Errorf("applied change 1 has error %q", c.Error)
			}
			e.wantKernel("after the restart", tc.kernelNew)
			e.wantFile("after the restart", tc.fileNew)
			if got := kernelNow(t); got != c.current() {
				t.Errorf("after the restart the kernel reads %s, but the database (change 1 %s) says %s", got, c.Status, c.current())
			}
			if left := e.tempFiles(); len(left) > 0 {
				t.Errorf("after the restart temp files remain: %v", left)
			}
			actions := srv.auditActions(1)
			for _, a := range []string{"change.recovered", "change.interrupted"} {
				if has := slices.Contains(actions, a); has != (a == tc.audit) {
					t.Errorf("audit actions of change 1 are %v: %s present is %v, want %v", actions, a, has, !has)
				}
			}
			if tc.audit == "" && !slices.Contains(actions, "change.applied") {
				t.Errorf("audit actions of change 1 are %v, want change.applied", actions)
			}

			srv.stop()
			e.verifyAudit()
			e.wantBootValue(c.current())
		})
	}

	// A rollback goes through the same pipeline; interrupted after the
	// kernel took the old value back, it must be undone and the change it
	// rolls back must stay applied.
	t.Run("rollback-"+fault.KernelWritten, func(t *testing.T) {
		e := newCrashEnv(t, bin)
		first := e.start("first run", "")
		if code, body, err := first.call(http.MethodPost, "/api/v1/changes", map[string]any{"low": 20000, "high": 40000, "reason": "crash test", "acknowledge": allHazardCodes}); err != nil || code != http.StatusCreated {
			t.Fatalf("POST /api/v1/changes: %d %v, want 201\n%s", code, err, body)
		}
		first.stop()
		e.wantKernel("after change 1", true)
		e.wantFile("after change 1", true)
		changed := crashRead(t, e.conf)

		crashed := e.start("rollback run with PORTPANEL_FAULT="+fault.KernelWritten, fault.KernelWritten)
		if code, body, err := crashed.call(http.MethodPost, "/api/v1/changes/1/rollback", map[string]any{"reason": "crash rollback"}); err == nil {
			t.Fatalf("POST /api/v1/changes/1/rollback answered %d, want the process killed at %s\n%s", code, fault.KernelWritten, body)
		}
		crashed.wantKilled()
		e.wantKernel("after the crash", false) // the rollback had put the old value back
		e.wantFile("after the crash", true)

		srv := e.start("restart", "")
		c2, c1 := srv.change(2), srv.change(1)
		if c2.Status != "failed" || !strings.HasPrefix(c2.Error, "interrupted") || c2.RollbackOf == nil || *c2.RollbackOf != 1 {
			t.Errorf("after the restart change 2 is %s, error %q, rollback of %v; want a failed rollback of change 1 with an error starting \"interrupted\"",
				c2.Status, c2.Error, c2.RollbackOf)
		}
		if c1.Status != "applied" {
			t.Errorf("after the restart change 1 is %s, want applied: its rollback never completed", c1.Status)
		}
		e.wantKernel("after the restart", true)
		if got := crashRead(t, e.conf); got != changed {
			t.Errorf("after the restart %s is\n%s\nwant change 1's file\n%s", e.conf, got, changed)
		}
		if left := e.tempFiles(); len(left) > 0 {
			t.Errorf("after the restart temp files remain: %v", left)
		}
		if actions := srv.auditActions(2); !slices.Contains(actions, "change.interrupted") || slices.Contains(actions, "change.recovered") {
			t.Errorf("audit actions of change 2 are %v, want change.interrupted and no change.recovered", actions)
		}
		srv.stop()
		e.verifyAudit()
		e.wantBootValue(crashTarget)
	})
}

// crashCase is one fault point. crash* is the state the kill leaves
// (checked before the restart, so a point that fires at the wrong step is
// caught); the rest is what the restart must make of it.
type crashCase struct {
	point                                   string
	crashKernelNew, crashFileNew, crashTemp bool
	status                                  string // of change 1 after the restart
	kernelNew, fileNew                      bool   // after the restart
	audit                                   string // the recovery's audit action, "" when none was needed
}

// wantKernel checks the namespace's range: crashTarget if changed, else
// crashBefore.
func (e *crashEnv) wantKernel(when string, changed bool) {
	e.t.Helper()
	want := crashBefore
	if changed {
		want = crashTarget
	}
	if got := kernelNow(e.t); got != want {
		e.t.Errorf("%s the kernel reads %s, want %s", when, got, want)
	}
}

// setCrashKernel writes the range of the test's network namespace.
func setCrashKernel(t *testing.T, r string) {
	t.Helper()
	if err := os.WriteFile(crashKernel, []byte(r+"\n"), 0o644); err != nil {
		t.Fatalf("write %s: %v", crashKernel, err)
	}
}

// kernelNow reads the namespace's range as "low high".
func kernelNow(t *testing.T) string {
	t.Helper()
	return strings.Join(strings.Fields(crashRead(t, crashKernel)), " ")
}

// wantFile checks the managed file: the original bytes, or the original
// with only the range line set to crashTarget.
func (e *crashEnv) wantFile(when string, changed bool) {
	e.t.Helper()
	got := crashRead(e.t, e.conf)
	if !changed {
		if got != crashConf {
			e.t.Errorf("%s: %s is\n%s\nwant the original bytes\n%s", when, e.conf, got, crashConf)
		}
		return
	}
	var rest, values []string
	for _, line := range strings.Split(got, "\n") {
		if m := crashRangeLine.FindStringSubmatch(line); m != nil {
			values = append(values, m[1]+" "+m[2])
		} else {
			rest = append(rest, line)
		}
	}
	want := strings.Replace(crashConf, "net.ipv4.ip_local_port_range = 32768 60999\n", "", 1)
	if len(values) != 1 || values[0] != crashTarget || strings.Join(rest, "\n") != want {
		e.t.Errorf("%s: %s is\n%s\nwant the original lines with one range line setting %s", when, e.conf, got, crashTarget)
	}
}

// tempFiles lists temp files of an atomic write left in etc/.
func (e *crashEnv) tempFiles() []string {
	e.t.Helper()
	m, err := filepath.Glob(filepath.Join(e.root, "etc", "*.portpanel-tmp-*"))
	if err != nil {
		e.t.Fatal(err)
	}
	return m
}

// verifyAudit checks the hash chain with the CLI, as an operator would.
func (e *crashEnv) verifyAudit() { e.t.Helper(); e.cli("", "audit", "verify", "--db", e.db) }

// wantBootValue applies the file as procps does at boot, from a kernel set
// elsewhere, and wants the range the database says is current: what the
// file says must agree with the record.
func (e *crashEnv) wantBootValue(want string) {
	e.t.Helper()
	sysctlBin, err := exec.LookPath("sysctl")
	if err != nil {
		sysctlBin = "/usr/sbin/sysctl"
	}
	setCrashKernel(e.t, "30000 50001")
	ctx, cancel := context.WithTimeout(context.Background(), crashWait)
	defer cancel()
	if out, err := exec.CommandContext(ctx, sysctlBin, "-p", e.conf).CombinedOutput(); err != nil {
		e.t.Fatalf("sysctl -p %s: %v\n%s", e.conf, err, out)
	}
	if got := kernelNow(e.t); got != want {
		e.t.Errorf("after sysctl -p %s the kernel reads %s, want %s (the value the database says is current)", e.conf, got, want)
	}
}

// crashChange is what the test reads of GET /api/v1/changes/{id}.
type crashChange struct {
	ID         int64  `json:"id"`
	Status     string `json:"status"`
	Low        int    `json:"low"`
	High       int    `json:"high"`
	Before     struct{ Low, High int }
	Error      string `json:"error"`
	RollbackOf *int64 `json:"rollback_of"`
}

// current is the range the database says the kernel and file now have.
func (c crashChange) current() string {
	if c.Status == "applied" {
		return fmt.Sprintf("%d %d", c.Low, c.High)
	}
	return fmt.Sprintf("%d %d", c.Before.Low, c.Before.High)
}

func (s *crashServer) change(id int64) crashChange {
	var c crashChange
	s.get(fmt.Sprintf("/api/v1/changes/%d", id), &c)
	return c
}

// auditActions lists the audit actions recorded for change id.
func (s *crashServer) auditActions(id int64) []string {
	var page struct {
		Events []struct {
			Action   string `json:"action"`
			ChangeID *int64 `json:"change_id"`
		} `json:"events"`
	}
	s.get("/api/v1/audit", &page)
	var out []string
	for _, e := range page.Events {
		if e.ChangeID != nil && *e.ChangeID == id {
			out = append(out, e.Action)
		}
	}
	return out
}
