package main

import (
	"context"
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

// TestCrashDuringTwoKeyApply is TestCrashDuringApply for a change that
// sets the range and ip_local_reserved_ports together: the real process is
// killed with SIGKILL after each step, restarted, and kernel (both keys),
// file and database must agree. The change reserves ports as it widens, so
// the reserved ports are written first: after kernel-first-written the
// kernel has the new list and the old range.
func TestCrashDuringTwoKeyApply(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	if out, err := exec.Command("ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("ip link set lo up: %v\n%s", err, out)
	}
	bin := buildFaultBinary(t)
	old, target := kernelKeys{crashBefore, ""}, kernelKeys{twoKeyRange, twoKeyReserved}
	cases := []twoKeyCase{
		{point: fault.IntentRecorded, crash: old, status: "failed", audit: "change.interrupted"},
		{point: fault.KernelFirstWritten, crash: kernelKeys{crashBefore, twoKeyReserved}, status: "failed", audit: "change.interrupted"},
		{point: fault.KernelWritten, crash: target, status: "failed", audit: "change.interrupted"},
		{point: fault.TempWritten, crash: target, crashTemp: true, status: "failed", audit: "change.interrupted"},
		{point: fault.FileRenamed, crash: target, crashFile: true, status: "applied", applied: true, audit: "change.recovered"},
		{point: fault.DBUpdated, crash: target, crashFile: true, status: "applied", applied: true},
	}
	for _, p := range fault.Points {
		if !slices.ContainsFunc(cases, func(c twoKeyCase) bool { return c.point == p }) {
			t.Errorf("fault point %q has no two-key case", p)
		}
	}
	kernelIs := func(t *testing.T, when string, want kernelKeys) {
		t.Helper()
		if got := (kernelKeys{kernelNow(t), reservedNow(t)}); got != want {
			t.Errorf("%s the kernel has range %s and reserved ports %q, want %s and %q", when, got.rng, got.reserved, want.rng, want.reserved)
		}
	}
	fileIs := func(t *testing.T, e *crashEnv, when string, changed bool) {
		t.Helper()
		want := crashConf
		if changed {
			want = twoKeyConf
		}
		if got := crashRead(t, e.conf); got != want {
			t.Errorf("%s %s is\n%s\nwant\n%s", when, e.conf, got, want)
		}
	}

	for _, tc := range cases {
		t.Run(tc.point, func(t *testing.T) {
			setReservedNow(t, "")
			e := newCrashEnv(t, bin)
			crashed := e.start("run with PORTPANEL_FAULT="+tc.point, tc.point)
			code, body, err := crashed.call(http.MethodPost, "/api/v1/changes", twoKeyRequest())
			if err == nil && (tc.point != fault.DBUpdated || code != http.StatusCreated) {
				t.Fatalf("POST /api/v1/changes answered %d, want the process killed at %s\n%s", code, tc.point, body)
			}
			crashed.wantKilled()
			kernelIs(t, "after the crash", tc.crash)
			fileIs(t, e, "after the crash", tc.crashFile)
			if left := e.tempFiles(); (len(left) > 0) != tc.crashTemp {
				t.Errorf("after the crash the temp files are %v; want a temp file left: %v", left, tc.crashTemp)
			}

			srv := e.start("restart", "")
			var c struct {
				Status         string  `json:"status"`
				Error          string  `json:"error"`
				ReservedPorts  *string `json:"reserved_ports"`
				ReservedBefore *string `json:"reserved_ports_before"`
			}
			srv.get("/api/v1/changes/1", &c)
			if c.Status != tc.status || (tc.status == "failed") != strings.HasPrefix(c.Error, "interrupted") {
				t.Errorf("after the restart change 1 is %s (error %q), want %s", c.Status, c.Error, tc.status)
			}
			if c.ReservedPorts == nil || *c.ReservedPorts != twoKeyReserved || c.ReservedBefore == nil || *c.ReservedBefore != "" {
				t.Errorf("change 1 records reserved ports %v → %v", c.ReservedBefore, c.ReservedPorts)
			}
			want := old
			if tc.applied {
				want = target
			}
			kernelIs(t, "after the restart", want)
			fileIs(t, e, "after the restart", tc.applied)
			if left := e.tempFiles(); len(left) > 0 {
				t.Errorf("after the restart temp files remain: %v", left)
			}
			actions := srv.auditActions(1)
			for _, a := range []string{"change.recovered", "change.interrupted"} {
				if has := slices.Contains(actions, a); has != (a == tc.audit) {
					t.Errorf("audit actions of change 1 are %v: %s present is %v", actions, a, has)
				}
			}
			srv.stop()
			e.verifyAudit()

			// sysctl -p of the file, from a kernel set elsewhere, gives what
			// the database says is current: both keys.
			setCrashKernel(t, "30000 50001")
			setReservedNow(t, "1")
			ctx, cancel := context.WithTimeout(context.Background(), crashWait)
			defer cancel()
			if out, err := exec.CommandContext(ctx, sysctlPath(), "-p", e.conf).CombinedOutput(); err != nil {
				t.Fatalf("sysctl -p %s: %v\n%s", e.conf, err, out)
			}
			fromFile := want
			if !tc.applied {
				fromFile.reserved = "1" // the old file does not set the key
			}
			kernelIs(t, "after sysctl -p", fromFile)
		})
	}
}

// kernelKeys is the namespace's range ("low high") and reserved ports.
type kernelKeys struct{ rng, reserved string }

// twoKeyCase is one fault point: the state the kill leaves, and the
// change's status (and recovery's audit action) after the restart.
type twoKeyCase struct {
	point, status, audit string
	crash                kernelKeys // the kernel after the kill
	crashFile, crashTemp bool
	applied              bool // after the restart
}

const (
	twoKeyRange    = "20000 60999"
	twoKeyReserved = "30000,35000-35001"
	// twoKeyConf is crashConf after the change: the range line rewritten
	// in place, the reserved ports added at the end.
	twoKeyConf = "# sysctl.conf of the portpanel crash test.\n" +
		"# Lines other than the port range must survive a change and its undoing.\n" +
		"\n" +
		"net.ipv4.tcp_syncookies = 1\n" +
		"net.ipv4.ip_local_port_range = 20000 60999\n" +
		"# end of file\n" +
		"net.ipv4.ip_local_reserved_ports = 30000,35000-35001\n"
)

// twoKeyRequest widens the range (so no connection of the test falls out
// of it) and reserves ports in the same change.
func twoKeyRequest() map[string]any {
	return map[string]any{"low": 20000, "high": 60999, "reserved_ports": "35001,30000,35000", "reason": "crash test, two keys"}
}

var crashReserved = filepath.Join(sysctltest.ProcSys(), "net", "ipv4", "ip_local_reserved_ports")

func reservedNow(t *testing.T) string {
	t.Helper()
	return strings.TrimSpace(crashRead(t, crashReserved))
}

func setReservedNow(t *testing.T, list string) {
	t.Helper()
	if err := os.WriteFile(crashReserved, []byte(list+"\n"), 0o644); err != nil {
		t.Fatalf("write %s: %v", crashReserved, err)
	}
}

func sysctlPath() string {
	if p, err := exec.LookPath("sysctl"); err == nil {
		return p
	}
	return "/usr/sbin/sysctl"
}
