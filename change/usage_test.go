package change_test

import (
	"context"
	"net"
	"os/exec"
	"strings"
	"testing"

	"portpanel/change"
	"portpanel/db"
	"portpanel/sysctl"
	"portpanel/sysctl/sysctltest"
)

// loopbackConns brings loopback up and opens n connections to a listener
// on 127.0.0.1, closed at the end of the test.
func loopbackConns(t *testing.T, n int) *net.TCPAddr {
	t.Helper()
	addr := listen(t, "tcp", "127.0.0.1:0")
	dialMany(t, addr, n)
	a, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestSampleUsageStoresTheSnapshotAndPreviewsTheImpact(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	ctx := context.Background()
	f := newFixture(t, nil)
	f.setKernel(t, sysctl.Range{Low: 40000, High: 40999})
	addr := loopbackConns(t, 7)

	snap, err := f.svc.SampleUsage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := f.svc.DB.LatestUsage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dest := addr.String()
	if stored.BusiestDestination != dest || stored.BusiestSockets != 7 || stored.RangeLow != 40000 || stored.RangeHigh != 40999 {
		t.Fatalf("stored sample: busiest %q × %d, range %d–%d; want %s × 7 in 40000–40999",
			stored.BusiestDestination, stored.BusiestSockets, stored.RangeLow, stored.RangeHigh, dest)
	}
	if stored.Capacity != snap.Capacity || stored.Capacity <= 0 || stored.Capacity > 1000 {
		t.Errorf("capacity %d (snapshot %d), want the same, within the 1000-port range", stored.Capacity, snap.Capacity)
	}
	if got, ok := f.svc.LatestUsage(); !ok || got.Busiest == nil || got.Busiest.Sockets != 7 {
		t.Errorf("LatestUsage = %+v, %v", got, ok)
	}

	// Moving the range: every client port is outside the new one.
	pv, err := f.svc.Preview(ctx, change.Request{Low: 41000, High: 41999, Reason: "move", Actor: operator})
	if err != nil {
		t.Fatal(err)
	}
	if pv.Impact == nil || pv.Impact.Outside < 7 {
		t.Errorf("impact of moving the range = %+v, want at least the 7 client sockets outside", pv.Impact)
	}
	pv, err = f.svc.Preview(ctx, change.Request{Low: 40000, High: 40001, Reason: "shrink", Actor: operator})
	if err != nil {
		t.Fatal(err)
	}
	if pv.Impact == nil || pv.Impact.Busiest == nil || pv.Impact.BusiestRisk <= snap.Busiest.Risk {
		t.Fatalf("impact of shrinking to 2 ports = %+v, want the busiest share to grow from %.3f", pv.Impact, snap.Busiest.Risk)
	}
	pv, err = f.svc.Preview(ctx, change.Request{Low: 39000, High: 41999, Reason: "widen", Actor: operator})
	if err != nil || pv.Impact != nil {
		t.Errorf("widening: impact %+v, %v; want none", pv.Impact, err)
	}
}

// A change behind portpanel's back shows up as an audit event and a history
// row at the next Sample (serve's sampler job runs one per interval; its
// timing is cli's loop test's).
func TestSampleRecordsAnExternalChange(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	ctx := context.Background()
	f := newFixture(t, nil)
	if _, _, err := f.svc.Sample(ctx, db.SourceStart); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("sysctl", "-w", "net.ipv4.ip_local_port_range=42000 52001").CombinedOutput(); err != nil {
		t.Fatalf("sysctl -w (inside the private namespace): %v\n%s", err, out)
	}
	if _, _, err := f.svc.Sample(ctx, db.SourceSample); err != nil {
		t.Fatal(err)
	}
	s, err := f.svc.DB.LatestSample(ctx)
	if err != nil || s.Source != db.SourceExternal || s.Low != 42000 || s.High != 52001 {
		t.Fatalf("latest sample %+v, %v; want the external change 42000 52001", s, err)
	}
	events, err := f.svc.DB.Audit(ctx, 5, 0)
	if err != nil || len(events) == 0 || events[0].Action != "range.external" || !strings.Contains(events[0].Detail, "→ 42000 52001") {
		t.Fatalf("history has the external change but the audit log says %+v, %v", events, err)
	}
}
