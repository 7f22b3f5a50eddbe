package change_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"portpanel/change"
	"portpanel/db"
	"portpanel/sysctl"
	"portpanel/sysctl/sysctltest"
)

func TestKernelRefusalChangesNothing(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	ctx := context.Background()
	f := newFixture(t, ptr("# untouched\n"))
	f.setKernel(t, sysctl.Range{Low: 50000, High: 60999})
	if err := os.WriteFile("/proc/sys/net/ipv4/ip_unprivileged_port_start", []byte("45000"), 0); err != nil {
		t.Fatal(err)
	}
	f.svc.Kernel = sysctl.Kernel{ProcSys: sysctltest.StaleProcSys(t)}

	_, err := f.svc.Apply(ctx, change.Request{Low: 40000, High: 50001, Reason: "race with unpriv", Actor: operator})
	var failed *change.FailedError
	if !errors.As(err, &failed) || !failed.KernelRefused {
		t.Fatalf("err = %v, want a kernel refusal", err)
	}
	if got := f.kernel(t); got != (sysctl.Range{Low: 50000, High: 60999}) {
		t.Errorf("kernel = %v, want it unchanged", got)
	}
	if content, _ := readFile(t, f.file); content != "# untouched\n" {
		t.Errorf("file = %q, want it unchanged", content)
	}
	assertFailedRecorded(t, f.svc.DB, failed.Change.ID, "refused")
}

func TestUnwritableFileRestoresKernel(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	ctx := context.Background()
	f := newFixture(t, ptr("net.ipv4.ip_local_port_range = 32768 60999\n"))
	sysctltest.ReadOnlyDir(t, filepath.Dir(f.file))

	_, err := f.svc.Apply(ctx, change.Request{Low: 40000, High: 50001, Reason: "file is read-only", Actor: operator})
	var failed *change.FailedError
	if !errors.As(err, &failed) || failed.KernelRefused {
		t.Fatalf("err = %v, want a file failure", err)
	}
	if got := f.kernel(t); got != (sysctl.Range{Low: 32768, High: 60999}) {
		t.Errorf("kernel = %v, want it restored", got)
	}
	if content, _ := readFile(t, f.file); content != "net.ipv4.ip_local_port_range = 32768 60999\n" {
		t.Errorf("file = %q, want it unchanged", content)
	}
	for _, want := range []string{"read-only file system", "restored to 32768 60999"} {
		if !strings.Contains(failed.Change.Error, want) {
			t.Errorf("error %q does not say %q", failed.Change.Error, want)
		}
	}
	assertFailedRecorded(t, f.svc.DB, failed.Change.ID, "read-only file system")
}

func TestUnrecordableChangeIsUndone(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	ctx := context.Background()
	f := newFixture(t, ptr("# before\n"))
	d, err := db.Open(ctx, filepath.Join(t.TempDir(), "closed.db"))
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	f.svc.DB = d

	if _, err := f.svc.Apply(ctx, change.Request{Low: 40000, High: 50001, Reason: "database gone", Actor: operator}); err == nil {
		t.Fatal("Apply succeeded without a database")
	}
	if got := f.kernel(t); got != (sysctl.Range{Low: 32768, High: 60999}) {
		t.Errorf("kernel = %v, want it restored", got)
	}
	if content, _ := readFile(t, f.file); content != "# before\n" {
		t.Errorf("file = %q, want it restored", content)
	}
}

func assertFailedRecorded(t *testing.T, d *db.DB, id int64, reason string) {
	t.Helper()
	ctx := context.Background()
	c, err := d.Change(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if c.Status != db.StatusFailed || !strings.Contains(c.Error, reason) {
		t.Errorf("change = status %q error %q, want failed with %q", c.Status, c.Error, reason)
	}
	events, err := d.Audit(ctx, 10, 0)
	if err != nil || len(events) == 0 || events[0].Action != "change.failed" || !strings.Contains(events[0].Detail, reason) {
		t.Errorf("audit = %+v, %v; want change.failed saying %q", events, err, reason)
	}
}

func TestSampleRecordsExternalChange(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	ctx := context.Background()
	f := newFixture(t, nil)
	if s, stored, err := f.svc.Sample(ctx, db.SourceStart); err != nil || !stored || s.Source != db.SourceStart {
		t.Fatalf("start sample = %+v, %v, %v", s, stored, err)
	}
	if _, stored, err := f.svc.Sample(ctx, db.SourceSample); err != nil || stored {
		t.Fatalf("an unchanged range was stored again (%v)", err)
	}
	f.setKernel(t, sysctl.Range{Low: 41000, High: 51001}) // by hand, as with sysctl -w
	s, stored, err := f.svc.Sample(ctx, db.SourceSample)
	if err != nil || !stored || s.Source != db.SourceExternal || s.Low != 41000 || s.High != 51001 {
		t.Fatalf("sample after a hand change = %+v, %v, %v", s, stored, err)
	}
	events, _ := f.svc.DB.Audit(ctx, 10, 0)
	if len(events) != 1 || events[0].Action != "range.external" || !strings.Contains(events[0].Detail, "32768 60999 → 41000 51001") {
		t.Errorf("audit = %+v", events)
	}
}

func TestConcurrentAppliesLeaveKernelFileAndDatabaseAgreeing(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	ctx := context.Background()
	f := newFixture(t, nil)
	f.svc.Now = func() time.Time { return time.Now() }
	done := make(chan error, 8)
	for i := range 8 {
		go func() {
			_, err := f.svc.Apply(ctx, change.Request{Low: 40000 + 2*i, High: 50001, Reason: "race", Actor: operator})
			done <- err
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
	list, err := f.svc.DB.Changes(ctx, 1, 0)
	if err != nil || len(list) != 1 {
		t.Fatal(list, err)
	}
	last := sysctl.Range{Low: list[0].Low, High: list[0].High}
	if got := f.kernel(t); got != last {
		t.Errorf("kernel = %v, last recorded change = %v", got, last)
	}
	content, _ := readFile(t, f.file)
	if want := "net.ipv4.ip_local_port_range = " + last.String() + "\n"; content != want {
		t.Errorf("file = %q, want %q", content, want)
	}
}
