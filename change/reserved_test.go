package change_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"portpanel/change"
	"portpanel/db"
	"portpanel/sysctl"
	"portpanel/sysctl/sysctltest"
)

// The two-key change: the range and ip_local_reserved_ports set in one
// apply, against the kernel of a private network namespace.

const twoKeyOld = "# tuning\nvm.swappiness = 10\nnet.ipv4.ip_local_port_range = 32768 60999\n; end\n"

var wide = sysctl.Range{Low: 1024, High: 65001}

func (f fixture) reserved(t *testing.T) string {
	t.Helper()
	s, err := f.k.ReadReserved()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (f fixture) setReserved(t *testing.T, list string) {
	t.Helper()
	if err := f.k.WriteReserved(list); err != nil {
		t.Fatal(err)
	}
}

func TestTwoKeyApply(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	ctx := context.Background()
	f := newFixture(t, ptr(twoKeyOld))
	c, err := f.svc.Apply(ctx, change.Request{Low: wide.Low, High: wide.High, ReservedPorts: ptr("8443,5432,6379"),
		Reason: "widen, keeping the services' ports", Actor: operator})
	if err != nil {
		t.Fatal(err)
	}
	if got := f.kernel(t); got != wide {
		t.Errorf("kernel range = %v, want %v", got, wide)
	}
	if got := f.reserved(t); got != "5432,6379,8443" {
		t.Errorf("kernel reserved ports = %q, want them sorted as the kernel prints them", got)
	}
	want := "# tuning\nvm.swappiness = 10\nnet.ipv4.ip_local_port_range = 1024 65001\n; end\nnet.ipv4.ip_local_reserved_ports = 5432,6379,8443\n"
	if content, _ := readFile(t, f.file); content != want {
		t.Errorf("file = %q, want %q", content, want)
	}
	if c.ReservedPorts == nil || *c.ReservedPorts != "5432,6379,8443" || c.BeforeReservedPorts == nil || *c.BeforeReservedPorts != "" {
		t.Errorf("recorded reserved ports %v → %v", c.BeforeReservedPorts, c.ReservedPorts)
	}
	// One intent, one outcome: each names both keys; the outcome has the
	// one diff of the one file write.
	events := auditEvents(t, f.svc.DB)
	if len(events) != 2 || events[0].Action != "change.applying" || events[1].Action != "change.applied" {
		t.Fatalf("audit actions %v, want change.applying then change.applied", auditActions(t, f.svc.DB))
	}
	for _, e := range events {
		for _, s := range []string{"32768 60999 → 1024 65001", "net.ipv4.ip_local_reserved_ports none → 5432,6379,8443"} {
			if !strings.Contains(e.Detail, s) {
				t.Errorf("%s detail %q lacks %q", e.Action, e.Detail, s)
			}
		}
	}
	if d := events[1].Detail; strings.Count(d, "@@") != 2 || !strings.Contains(d, "+net.ipv4.ip_local_port_range = 1024 65001") ||
		!strings.Contains(d, "+net.ipv4.ip_local_reserved_ports = 5432,6379,8443") {
		t.Errorf("applied event's diff is not the one diff of both lines:\n%s", d)
	}
	if s, err := f.svc.DB.LatestSample(ctx); err != nil || s.ReservedPorts == nil || *s.ReservedPorts != "5432,6379,8443" {
		t.Errorf("latest sample %+v (%v) does not record the reserved ports", s, err)
	}

	// The reference reader sets both keys from the written file.
	f.setKernel(t, defaultRange)
	f.setReserved(t, "")
	out, err := exec.Command("sysctl", "-p", f.file).CombinedOutput()
	if err != nil {
		t.Fatalf("sysctl -p %s: %v\n%s", f.file, err, out)
	}
	if got, res := f.kernel(t), f.reserved(t); got != wide || res != "5432,6379,8443" {
		t.Errorf("after sysctl -p the kernel has %v and reserved ports %q", got, res)
	}
}

func TestTwoKeyRefusals(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	ctx := context.Background()
	f := newFixture(t, ptr(twoKeyOld))
	was := f.state(t)
	for _, tc := range []struct{ name, list string }{
		{"spaces", "8080, 9000"}, {"reversed", "9100-9000"}, {"port 0", "0"}, {"empty item", "80,,81"},
	} {
		_, err := f.svc.Apply(ctx, change.Request{Low: wide.Low, High: wide.High, ReservedPorts: ptr(tc.list), Reason: "bad list", Actor: operator})
		if !isInvalid(err) {
			t.Errorf("%s: %v, want the list refused before anything is touched", tc.name, err)
		}
	}
	f.assertUnchanged(t, was)
	if got := f.reserved(t); got != "" {
		t.Errorf("reserved ports = %q", got)
	}
	// Nothing to change: the same range and list as now.
	f.setReserved(t, "5432")
	mustWrite(t, f.file, "net.ipv4.ip_local_port_range = 32768 60999\nnet.ipv4.ip_local_reserved_ports = 5432\n")
	_, err := f.svc.Apply(ctx, change.Request{Low: defaultRange.Low, High: defaultRange.High, ReservedPorts: ptr("5432"), Reason: "again", Actor: operator})
	if !isInvalid(err) || !strings.Contains(err.Error(), "nothing to change") {
		t.Errorf("a change to the current values: %v", err)
	}
}

// The second write fails: the range, after the reserved ports were
// written first (reserving before widening). ip_unprivileged_port_start
// is raised between validation and write, as StaleProcSys shows it.
func TestSecondKeyRefusedPutsBothBack(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	ctx := context.Background()
	f := newFixture(t, ptr(twoKeyOld))
	f.setKernel(t, sysctl.Range{Low: 50000, High: 60999})
	f.setReserved(t, "7000")
	writeUnprivPortStart(t, "45000")
	view := sysctltest.StaleProcSys(t)
	// The stale view reads the real reserved ports, so their write reaches
	// the kernel and must be put back.
	res := filepath.Join(view, "net/ipv4/ip_local_reserved_ports")
	if err := os.Remove(res); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/proc/sys/net/ipv4/ip_local_reserved_ports", res); err != nil {
		t.Fatal(err)
	}
	f.svc.Kernel = sysctl.Kernel{ProcSys: view}

	_, err := f.svc.Apply(ctx, change.Request{Low: 40000, High: 60999, ReservedPorts: ptr("7000,45000"), Reason: "widen over a port", Actor: operator})
	var failed *change.FailedError
	if !errors.As(err, &failed) || !failed.KernelRefused {
		t.Fatalf("err = %v, want the kernel's refusal", err)
	}
	if got, res := f.kernel(t), f.reserved(t); got != (sysctl.Range{Low: 50000, High: 60999}) || res != "7000" {
		t.Errorf("kernel = %v with reserved ports %q, want both put back (50000 60999, 7000)", got, res)
	}
	if content, _ := readFile(t, f.file); content != twoKeyOld {
		t.Errorf("file = %q, want it untouched", content)
	}
	if !strings.Contains(failed.Change.Error, "restored to reserved ports 7000") {
		t.Errorf("error %q does not say the reserved ports were put back", failed.Change.Error)
	}
	assertFailedRecorded(t, f.svc.DB, failed.Change.ID, "refused")
}

// The second write fails the other way round: narrowing and unreserving
// writes the range first, and the reserved ports' file is read-only (as
// /proc/sys is in many containers).
func TestSecondKeyUnwritablePutsBothBack(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	ctx := context.Background()
	f := newFixture(t, ptr(twoKeyOld))
	f.setReserved(t, "33000")
	p := "/proc/sys/net/ipv4/ip_local_reserved_ports"
	if err := syscall.Mount(p, p, "", syscall.MS_BIND, ""); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("", p, "", syscall.MS_BIND|syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
		t.Fatal(err)
	}

	_, err := f.svc.Apply(ctx, change.Request{Low: 40000, High: 60999, ReservedPorts: ptr(""), Reason: "narrow, unreserve", Actor: operator})
	var failed *change.FailedError
	if !errors.As(err, &failed) {
		t.Fatalf("err = %v, want a failed change", err)
	}
	if got, res := f.kernel(t), f.reserved(t); got != defaultRange || res != "33000" {
		t.Errorf("kernel = %v with reserved ports %q, want both unchanged", got, res)
	}
	if !strings.Contains(failed.Change.Error, "read-only file system") || !strings.Contains(failed.Change.Error, "restored to 32768 60999") {
		t.Errorf("error %q: want the refusal and the range put back", failed.Change.Error)
	}
	if content, _ := readFile(t, f.file); content != twoKeyOld {
		t.Errorf("file = %q, want it untouched", content)
	}
}

func TestTwoKeyUnwritableFileRestoresBoth(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	ctx := context.Background()
	f := newFixture(t, ptr(twoKeyOld))
	sysctltest.ReadOnlyDir(t, filepath.Dir(f.file))
	_, err := f.svc.Apply(ctx, change.Request{Low: wide.Low, High: wide.High, ReservedPorts: ptr("5432"), Reason: "file is read-only", Actor: operator})
	var failed *change.FailedError
	if !errors.As(err, &failed) || failed.KernelRefused {
		t.Fatalf("err = %v, want a file failure", err)
	}
	if got, res := f.kernel(t), f.reserved(t); got != defaultRange || res != "" {
		t.Errorf("kernel = %v with reserved ports %q, want both restored", got, res)
	}
	if !strings.Contains(failed.Change.Error, "restored to 32768 60999 and reserved ports none") &&
		!strings.Contains(failed.Change.Error, "restored to reserved ports none and 32768 60999") {
		t.Errorf("error %q does not name both keys put back", failed.Change.Error)
	}
	assertFailedRecorded(t, f.svc.DB, failed.Change.ID, "read-only file system")
}

func TestTwoKeyRollbackByteForByte(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	ctx := context.Background()
	f := newFixture(t, ptr(twoKeyOld))
	f.setReserved(t, "7000")
	c, err := f.svc.Apply(ctx, change.Request{Low: wide.Low, High: wide.High, ReservedPorts: ptr("5432,7000"), Reason: "widen", Actor: operator})
	if err != nil {
		t.Fatal(err)
	}
	r, err := f.svc.Rollback(ctx, c.ID, "", operator)
	if err != nil {
		t.Fatal(err)
	}
	if got, res := f.kernel(t), f.reserved(t); got != defaultRange || res != "7000" {
		t.Errorf("after the rollback the kernel has %v and reserved ports %q", got, res)
	}
	if content, _ := readFile(t, f.file); content != twoKeyOld {
		t.Errorf("file = %q, want the bytes from before the change", content)
	}
	if r.ReservedPorts == nil || *r.ReservedPorts != "7000" || *r.BeforeReservedPorts != "5432,7000" {
		t.Errorf("rollback records reserved ports %v → %v", r.BeforeReservedPorts, r.ReservedPorts)
	}
	if e := lastEvent(t, f.svc.DB, "change.rolled_back"); !strings.Contains(e.Detail, "5432,7000 → 7000") {
		t.Errorf("rollback event %q lacks the reserved ports", e.Detail)
	}

	// Once the file was edited since, only the two keys are set back.
	c2, err := f.svc.Apply(ctx, change.Request{Low: wide.Low, High: wide.High, ReservedPorts: ptr("5432"), Reason: "again", Actor: operator})
	if err != nil {
		t.Fatal(err)
	}
	content, _ := readFile(t, f.file)
	mustWrite(t, f.file, "# edited by hand\n"+content)
	if _, err := f.svc.Rollback(ctx, c2.ID, "", operator); err != nil {
		t.Fatal(err)
	}
	got, _ := readFile(t, f.file)
	want := "# edited by hand\n# tuning\nvm.swappiness = 10\nnet.ipv4.ip_local_port_range = 32768 60999\n; end\nnet.ipv4.ip_local_reserved_ports = 7000\n"
	if got != want || f.reserved(t) != "7000" {
		t.Errorf("file = %q, reserved ports %q; want %q", got, f.reserved(t), want)
	}
}

func TestTwoKeyStale(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	ctx := context.Background()
	f := newFixture(t, ptr(twoKeyOld))
	f.setReserved(t, "7000")
	was := f.state(t)
	req := change.Request{Low: wide.Low, High: wide.High, ReservedPorts: ptr("5432"), BaseReserved: ptr(""), Reason: "stale", Actor: operator}
	if _, err := f.svc.Apply(ctx, req); !errors.Is(err, change.ErrConflict) || !strings.Contains(err.Error(), "reserved ports are now 7000") {
		t.Fatalf("err = %v, want a 409 naming the reserved ports", err)
	}
	f.assertUnchanged(t, was)

	// A proposal is checked again when approved.
	f.svc.RequireApproval = true
	req.BaseReserved = ptr("7000")
	p, err := f.svc.Apply(ctx, req)
	if err != nil || p.Status != db.StatusProposed {
		t.Fatalf("proposal: %+v, %v", p, err)
	}
	f.setReserved(t, "7001")
	if _, err := f.svc.Approve(ctx, p.ID, approver, ""); !errors.Is(err, change.ErrConflict) {
		t.Fatalf("approve after the reserved ports changed: %v, want a conflict", err)
	}
	if got := f.kernel(t); got != defaultRange {
		t.Errorf("kernel = %v", got)
	}
}

func TestTwoKeyCommitConfirmedRevert(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	ctx := context.Background()
	f := newFixture(t, ptr(twoKeyOld))
	clk := newClock()
	f.svc.Now = clk.Now
	if _, err := f.svc.Apply(ctx, change.Request{Low: wide.Low, High: wide.High, ReservedPorts: ptr("5432"), Reason: "try",
		Actor: operator, ConfirmWithin: 2 * time.Minute}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(3 * time.Minute)
	if n, err := f.svc.RevertDue(ctx); n != 1 || err != nil {
		t.Fatalf("RevertDue = %d, %v", n, err)
	}
	if got, res := f.kernel(t), f.reserved(t); got != defaultRange || res != "" {
		t.Errorf("after the revert the kernel has %v and reserved ports %q", got, res)
	}
	if content, _ := readFile(t, f.file); content != twoKeyOld {
		t.Errorf("file = %q", content)
	}
}

func TestReservedDriftAndHistory(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	ctx := context.Background()
	f := newFixture(t, ptr("net.ipv4.ip_local_port_range = 32768 60999\nnet.ipv4.ip_local_reserved_ports = 5432\n"))
	f.setReserved(t, "5432")
	if _, _, err := f.svc.Sample(ctx, db.SourceStart); err != nil {
		t.Fatal(err)
	}
	st, err := f.svc.Status(ctx)
	if err != nil || st.Drift || st.ReservedDrift || st.BootReserved != "5432" {
		t.Fatalf("status %+v, %v: want no drift and boot reserved ports 5432", st, err)
	}
	f.setReserved(t, "5432,8080") // by hand
	if drift, err := f.svc.WatchDrift(ctx); err != nil || !drift {
		t.Fatalf("WatchDrift = %v, %v; want drift", drift, err)
	}
	if e := lastEvent(t, f.svc.DB, "range.drift"); !strings.Contains(e.Detail, "reserved ports 5432,8080 differ from the boot value 5432") {
		t.Errorf("drift event %q", e.Detail)
	}
	sm, recorded, err := f.svc.Sample(ctx, db.SourceSample)
	if err != nil || !recorded || sm.Source != db.SourceExternal || sm.ReservedPorts == nil || *sm.ReservedPorts != "5432,8080" {
		t.Fatalf("sample %+v, %v, %v: want an external change of the reserved ports", sm, recorded, err)
	}
	if e := lastEvent(t, f.svc.DB, "range.external"); !strings.Contains(e.Detail, "reserved ports 5432 → 5432,8080") {
		t.Errorf("external event %q", e.Detail)
	}
}

// The review shows both keys, and warns when a file read after the
// managed one would win at boot for the reserved ports.
func TestTwoKeyPreviewBootWarning(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	ctx := context.Background()
	f := newFixture(t, nil)
	dir := filepath.Join(filepath.Dir(f.file), "sysctl.d")
	f.svc.File = filepath.Join(dir, "60-portpanel.conf")
	mustWrite(t, filepath.Join(dir, "90-vendor.conf"), "net.ipv4.ip_local_reserved_ports = 9000\n")
	f.setReserved(t, "7000")
	pv, err := f.svc.Preview(ctx, change.Request{Low: wide.Low, High: wide.High, ReservedPorts: ptr("5432"), Reason: "r", Actor: operator})
	if err != nil {
		t.Fatal(err)
	}
	if pv.BeforeReserved != "7000" || pv.TargetReserved == nil || *pv.TargetReserved != "5432" {
		t.Errorf("preview reserved ports %q → %v", pv.BeforeReserved, pv.TargetReserved)
	}
	if !strings.Contains(strings.Join(pv.Warnings, "\n"), "90-vendor.conf:1 sets net.ipv4.ip_local_reserved_ports to \"9000\" and wins at boot") {
		t.Errorf("warnings %q lack the vendor file's override", pv.Warnings)
	}
	if !strings.Contains(pv.Diff, "+net.ipv4.ip_local_reserved_ports = 5432") {
		t.Errorf("diff:\n%s", pv.Diff)
	}
}
