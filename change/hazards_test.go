package change_test

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"portpanel/change"
	"portpanel/db"
	"portpanel/sysctl"
	"portpanel/sysctl/sysctltest"
)

// hazardBed is a private network namespace with services and clients:
// TCP listeners on 127.0.0.1:5432 and :6379 (6379 reserved), a UDP socket
// bound to :5353, and 30 connections to 6379 whose client ports were
// taken while the range was 40000-40399 (room for the TIME_WAIT sockets
// of earlier subtests in the same namespace); the range is then
// 40000-49999.
// The fixture's service has sampled it once.
func hazardBed(t *testing.T) fixture {
	t.Helper()
	f := newFixture(t, nil)
	f.setKernel(t, sysctl.Range{Low: 40000, High: 40399})
	writeReserved(t, "6379")
	listen(t, "tcp", "127.0.0.1:5432")
	listen(t, "udp", "127.0.0.1:5353")
	dialMany(t, listen(t, "tcp", "127.0.0.1:6379"), 30)
	f.setKernel(t, sysctl.Range{Low: 40000, High: 49999})
	if _, err := f.svc.SampleUsage(context.Background()); err != nil {
		t.Fatal(err)
	}
	return f
}

func writeReserved(t *testing.T, list string) {
	t.Helper()
	if err := os.WriteFile("/proc/sys/net/ipv4/ip_local_reserved_ports", []byte(list), 0); err != nil {
		t.Fatal(err)
	}
}

// listen opens a listener (tcp) or a bound socket (udp) on addr, closed
// at the end of the test; loopback is brought up first.
func listen(t *testing.T, network, addr string) string {
	t.Helper()
	if out, err := exec.Command("ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("ip link set lo up: %v\n%s", err, out)
	}
	if network == "udp" {
		c, err := net.ListenPacket("udp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c.LocalAddr().String()
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	return ln.Addr().String()
}

func dialMany(t *testing.T, addr string, n int) {
	t.Helper()
	for range n {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
	}
}

func codes(hs []db.Hazard) []string {
	var out []string
	for _, h := range hs {
		out = append(out, h.Code)
	}
	return out
}

// TestHazardGate: each kind of hazard is found with real sockets; a
// hazardous change without every acknowledgement answers a HazardError
// naming the missing codes and changes nothing (kernel, file, database);
// with them it applies, and the audit event names what was acknowledged.
func TestHazardGate(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	tests := []struct {
		name      string
		low, high int
		want      []string
	}{
		{name: "widening with no listener or connection in the way is not hazardous", low: 40000, high: 59999},
		{name: "a range of 501 ports is small", low: 40000, high: 40500, want: []string{change.HazardSmallRange}},
		{name: "20 ports are fewer than the 30 the busiest destination holds, and leave clients outside",
			low: 40000, high: 40019, want: []string{change.HazardSmallRange, change.HazardBelowBusiest, change.HazardConnectionsOutside}},
		{name: "moving the range away from today's connections", low: 41000, high: 50999, want: []string{change.HazardConnectionsOutside}},
		{name: "1024-65000 takes in the services' ports", low: 1024, high: 65000, want: []string{change.HazardListenerInRange}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			f := hazardBed(t)
			req := change.Request{Low: tt.low, High: tt.high, Reason: "hazard test", Actor: operator}
			pv, err := f.svc.Preview(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			if got := codes(pv.Hazards); !slices.Equal(got, tt.want) {
				t.Fatalf("preview hazards %q, want %q:\n%+v", got, tt.want, pv.Hazards)
			}
			was := f.state(t)
			if len(tt.want) > 0 {
				// Everything but the last acknowledged: the error names
				// exactly the one left.
				req.Acknowledge = tt.want[:len(tt.want)-1]
				_, err := f.svc.Apply(ctx, req)
				var hz *change.HazardError
				if !errors.As(err, &hz) || !slices.Equal(codes(hz.Hazards), tt.want[len(tt.want)-1:]) {
					t.Fatalf("Apply acknowledging %q: %v, want a HazardError naming %q", req.Acknowledge, err, tt.want[len(tt.want)-1:])
				}
				f.assertUnchanged(t, was)
			}
			req.Acknowledge = tt.want
			c, err := f.svc.Apply(ctx, req)
			if err != nil {
				t.Fatalf("Apply acknowledging %q: %v", req.Acknowledge, err)
			}
			if got := f.kernel(t); got != (sysctl.Range{Low: tt.low, High: tt.high}) {
				t.Errorf("kernel %v after the apply", got)
			}
			if !slices.Equal(c.Acknowledged, tt.want) || !slices.Equal(codes(mustChange(t, f.svc.DB, c.ID).Hazards), tt.want) {
				t.Errorf("recorded hazards %q acknowledged %q, want %q", codes(c.Hazards), c.Acknowledged, tt.want)
			}
			detail := lastEvent(t, f.svc.DB, "change.applied").Detail
			if wantAck := "hazards acknowledged: " + strings.Join(tt.want, ", "); len(tt.want) > 0 && !strings.Contains(detail, wantAck) {
				t.Errorf("audit detail %q does not say %q", detail, wantAck)
			} else if len(tt.want) == 0 && strings.Contains(detail, "hazards") {
				t.Errorf("audit detail %q speaks of hazards", detail)
			}
		})
	}
}

// TestListenersInRange: the review lists every listening port inside the
// new range with the process holding it and what the port usually is;
// the reserved one is marked and left out of the warnings and the fix.
func TestListenersInRange(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	f := hazardBed(t)
	pv, err := f.svc.Preview(context.Background(), change.Request{Low: 1024, High: 65000, Reason: "wide", Actor: operator})
	if err != nil {
		t.Fatal(err)
	}
	comm, _ := os.ReadFile("/proc/self/comm")
	var got []string
	for _, l := range pv.Listeners {
		if l.Process != strings.TrimSpace(string(comm)) || l.PID != os.Getpid() || !l.Now {
			t.Errorf("%s: held by %q (PID %d), now %v; want this process, now", l.Label(), l.Process, l.PID, l.Now)
		}
		got = append(got, l.Label()[:strings.Index(l.Label(), " ")]+" "+l.Usually+map[bool]string{true: " reserved"}[l.Reserved])
	}
	want := []string{"5353/udp mDNS", "5432/tcp PostgreSQL", "6379/tcp Redis reserved"}
	if !slices.Equal(got, want) {
		t.Errorf("listeners %q, want %q", got, want)
	}
	if pv.ReserveFix != "net.ipv4.ip_local_reserved_ports = 5353,5432,6379" {
		t.Errorf("fix %q, want the two unreserved ports added to 6379", pv.ReserveFix)
	}
	var warned []string
	for _, w := range pv.Warnings {
		if strings.Contains(w, "EADDRINUSE") {
			warned = append(warned, w[:len("Port 5432/tcp")])
		}
	}
	if !slices.Equal(warned, []string{"Port 5353/udp", "Port 5432/tcp"}) {
		t.Errorf("a warning each for %q, want the two unreserved ports:\n%s", warned, strings.Join(pv.Warnings, "\n"))
	}
}

// TestListenersRemembered: a listener that stopped is still a collision
// for seven days (the service at risk is the one that is down), then
// forgotten.
func TestListenersRemembered(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	ctx := context.Background()
	f := newFixture(t, nil)
	clock := newClock()
	f.svc.Now = clock.Now
	listen(t, "tcp", "127.0.0.1:1") // brings loopback up; below any range
	ln, err := net.Listen("tcp", "127.0.0.1:8443")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.SampleUsage(ctx); err != nil {
		t.Fatal(err)
	}
	ln.Close()
	clock.Advance(6 * 24 * time.Hour)
	if _, err := f.svc.SampleUsage(ctx); err != nil {
		t.Fatal(err)
	}
	wide := sysctl.Range{Low: 1024, High: 65000}
	got := f.svc.Collisions(wide, "")
	if len(got) != 1 || got[0].Port != 8443 || got[0].Now || !strings.Contains(got[0].Label(), "not listening now") {
		t.Fatalf("six days after it stopped: %+v, want 8443, not listening now", got)
	}
	clock.Advance(2 * 24 * time.Hour)
	if _, err := f.svc.SampleUsage(ctx); err != nil {
		t.Fatal(err)
	}
	if got := f.svc.Collisions(wide, ""); len(got) != 0 {
		t.Errorf("eight days after it stopped: %+v, want it forgotten", got)
	}
}

// TestApprovalRechecksHazards: a proposal is gated like an apply; at
// approval a hazard that appeared since (a service started inside the
// new range, outside the current one) needs the approver's
// acknowledgement, without which the proposal stays proposed and nothing
// changes.
func TestApprovalRechecksHazards(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	ctx := context.Background()
	f := hazardBed(t)
	f.svc.RequireApproval = true
	if _, err := f.svc.Apply(ctx, change.Request{Low: 40000, High: 40500, Reason: "fewer", Actor: proposer}); !errors.As(err, new(*change.HazardError)) {
		t.Fatalf("proposal without acknowledgement: %v, want a HazardError", err)
	}
	p, err := f.svc.Apply(ctx, change.Request{Low: 40000, High: 40500, Reason: "fewer", Actor: proposer,
		Acknowledge: []string{change.HazardSmallRange}})
	if err != nil || p.Status != db.StatusProposed {
		t.Fatalf("proposal: %+v, %v", p, err)
	}
	if d := lastEvent(t, f.svc.DB, "change.proposed").Detail; !strings.Contains(d, "hazards acknowledged: small-range") {
		t.Errorf("proposal's audit detail %q does not name the acknowledgement", d)
	}
	if _, err := f.svc.Reject(ctx, p.ID, proposer, "withdrawn"); err != nil {
		t.Fatal(err)
	}
	p, err = f.svc.Apply(ctx, change.Request{Low: 39000, High: 40500, Reason: "lower", Actor: proposer})
	if err != nil || p.Status != db.StatusProposed || len(p.Hazards) != 0 {
		t.Fatalf("harmless proposal: %+v, %v", p, err)
	}

	listen(t, "tcp", "127.0.0.1:39500")
	if _, err := f.svc.SampleUsage(ctx); err != nil {
		t.Fatal(err)
	}
	was := f.state(t)
	_, err = f.svc.Approve(ctx, p.ID, approver, "")
	var hz *change.HazardError
	if !errors.As(err, &hz) || !slices.Equal(codes(hz.Hazards), []string{change.HazardListenerInRange}) {
		t.Fatalf("approval without acknowledging the new listener: %v, want a HazardError naming listener-in-range", err)
	}
	f.assertUnchanged(t, was)

	c, err := f.svc.ApproveAcknowledging(ctx, p.ID, approver, "ok", []string{change.HazardListenerInRange})
	if err != nil || c.Status != db.StatusApplied {
		t.Fatalf("approval acknowledging it: %+v, %v", c, err)
	}
	if want := []string{change.HazardListenerInRange}; !slices.Equal(c.Acknowledged, want) {
		t.Errorf("acknowledged %q, want %q", c.Acknowledged, want)
	}
	if d := lastEvent(t, f.svc.DB, "change.approved").Detail; !strings.Contains(d, "Acknowledged hazards: listener-in-range") {
		t.Errorf("approval's audit detail %q does not name what the approver acknowledged", d)
	}
}

// TestListenerAlreadyInRangeIsNotAHazard: a service inside the range in
// force and unreserved is at risk already; a change that keeps it so
// warns about it but needs no acknowledgement for it.
func TestListenerAlreadyInRangeIsNotAHazard(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	ctx := context.Background()
	f := hazardBed(t)
	listen(t, "tcp", "127.0.0.1:45000")
	if _, err := f.svc.SampleUsage(ctx); err != nil {
		t.Fatal(err)
	}
	pv, err := f.svc.Preview(ctx, change.Request{Low: 40000, High: 59999, Reason: "more", Actor: operator})
	if err != nil {
		t.Fatal(err)
	}
	if len(pv.Hazards) != 0 || !slices.ContainsFunc(pv.Warnings, func(w string) bool { return strings.HasPrefix(w, "Port 45000/tcp") }) {
		t.Errorf("hazards %+v, warnings %q; want none, and a warning for 45000", pv.Hazards, pv.Warnings)
	}
	// Unreserving a reserved service puts it at risk.
	writeReserved(t, "45000,6379")
	if _, err := f.svc.SampleUsage(ctx); err != nil {
		t.Fatal(err)
	}
	unreserve := ""
	pv, err = f.svc.Preview(ctx, change.Request{Low: 40000, High: 59999, Reason: "more", Actor: operator, ReservedPorts: &unreserve})
	if err != nil {
		t.Fatal(err)
	}
	if got := codes(pv.Hazards); !slices.Equal(got, []string{change.HazardListenerInRange}) || !strings.Contains(pv.Hazards[0].Message, "45000/tcp") {
		t.Errorf("unreserving 45000: hazards %+v, want listener-in-range naming it", pv.Hazards)
	}
}

// TestRollbackIsNotGated: a rollback restores a value the host ran
// before; when that value is hazardous now, the rollback still applies at
// once, with its hazards recorded and audited.
func TestRollbackIsNotGated(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	ctx := context.Background()
	f := hazardBed(t)
	c, err := f.svc.Apply(ctx, change.Request{Low: 20000, High: 29999, Reason: "move", Actor: operator,
		Acknowledge: []string{change.HazardConnectionsOutside}})
	if err != nil {
		t.Fatal(err)
	}
	listen(t, "tcp", "127.0.0.1:45000") // inside the range the rollback restores
	if _, err := f.svc.SampleUsage(ctx); err != nil {
		t.Fatal(err)
	}
	r, err := f.svc.Rollback(ctx, c.ID, "", operator)
	if err != nil {
		t.Fatalf("rollback: %v, want it applied without acknowledgement", err)
	}
	if got := f.kernel(t); got != (sysctl.Range{Low: 40000, High: 49999}) {
		t.Errorf("kernel %v after the rollback", got)
	}
	if !slices.Contains(codes(r.Hazards), change.HazardListenerInRange) || len(r.Acknowledged) != 0 {
		t.Errorf("rollback recorded hazards %q acknowledged %q, want listener-in-range, unacknowledged", codes(r.Hazards), r.Acknowledged)
	}
	if d := lastEvent(t, f.svc.DB, "change.rolled_back").Detail; !strings.Contains(d, "hazards (a rollback is not gated): listener-in-range") {
		t.Errorf("rollback's audit detail %q does not name its hazards", d)
	}
}

// TestAcknowledgeRefusesUnknownCodes: a misspelt code is refused, not
// taken for an acknowledgement.
func TestAcknowledgeRefusesUnknownCodes(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	f := newFixture(t, nil)
	was := f.state(t)
	_, err := f.svc.Apply(context.Background(), change.Request{Low: 40000, High: 40010, Reason: "x", Actor: operator,
		Acknowledge: []string{"small_range"}})
	if !isInvalid(err) || !strings.Contains(err.Error(), `"small_range" is not a hazard code`) {
		t.Fatalf("Apply with a misspelt code: %v, want it refused as invalid", err)
	}
	f.assertUnchanged(t, was)
}
