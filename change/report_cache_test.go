package change_test

import (
	"context"
	"os"
	"testing"
	"time"

	"portpanel/change"
	"portpanel/sysctl"
	"portpanel/sysctl/sysctltest"
)

// Status reuses the boot report, but never past a write of the managed file
// by portpanel (apply, rollback), and a hand edit shows once ReportMaxAge
// has passed.
func TestStatusBootValueAfterWrites(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	ctx := context.Background()
	f := newFixture(t, ptr("# managed by hand\n"))
	f.svc.ReportMaxAge = 300 * time.Millisecond
	boot := func() sysctl.Range {
		t.Helper()
		st, err := f.svc.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return st.BootRange
	}
	if got := boot(); got != change.KernelDefault {
		t.Fatalf("boot before any change = %v, want the kernel default %v", got, change.KernelDefault)
	}
	c, err := f.svc.Apply(ctx, change.Request{Low: 40000, High: 50001, Reason: "more ports", Actor: operator})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := boot(), (sysctl.Range{Low: 40000, High: 50001}); got != want {
		t.Errorf("boot right after apply = %v, want %v", got, want)
	}
	if _, err := f.svc.Rollback(ctx, c.ID, "back", approver); err != nil {
		t.Fatal(err)
	}
	if got := boot(); got != change.KernelDefault {
		t.Errorf("boot right after rollback = %v, want %v", got, change.KernelDefault)
	}
	if err := os.WriteFile(f.file, []byte("net.ipv4.ip_local_port_range = 20000 30001\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	time.Sleep(400 * time.Millisecond)
	if got, want := boot(), (sysctl.Range{Low: 20000, High: 30001}); got != want {
		t.Errorf("boot %v after a hand edit = %v, want %v", 400*time.Millisecond, got, want)
	}
}
