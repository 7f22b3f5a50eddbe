package usage

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"portpanel/sysctl"
)

var rng1000 = sysctl.Range{Low: 40000, High: 40999}

func TestCompute(t *testing.T) {
	type want struct {
		capacity, reserved, bound, inRange, udp int
		tcp                                     map[string]int // nil: not checked
		dests                                   string
		shared                                  float64
	}
	tests := []struct {
		name     string
		socks    []Socket
		reserved string
		rng      sysctl.Range // zero: rng1000
		want     want
	}{
		{"an empty namespace has the whole range", nil, "", sysctl.Range{},
			want{capacity: 1000, tcp: map[string]int{}}},
		{"reserved ports inside the range reduce capacity, outside do not", nil, "80,39990-40009,40995-41005", sysctl.Range{},
			want{capacity: 985, reserved: 15}},
		{"an in-range listener reduces capacity once per port, whatever the address", []Socket{
			tcp(Listen, "127.0.0.1:40500", "0.0.0.0:0"),
			tcp(Listen, "[::1]:40500", "[::]:0"),
			tcp(Listen, "0.0.0.0:40501", "0.0.0.0:0"),
			// Accepted from the listener: its port is the listener's,
			// not one connect() handed out.
			tcp(Established, "127.0.0.1:40500", "127.0.0.1:33333"),
		}, "", sysctl.Range{}, want{capacity: 998, bound: 2, inRange: 4, tcp: map[string]int{Listen: 3, Established: 1}}},
		{"a bound socket with no peer holds its port", []Socket{tcp(Close, "127.0.0.1:40600", "0.0.0.0:0")}, "", sysctl.Range{},
			want{capacity: 999, bound: 1, inRange: 1}},
		{"a listener outside the range does not reduce capacity", []Socket{tcp(Listen, "0.0.0.0:8080", "0.0.0.0:0")}, "", sysctl.Range{},
			want{capacity: 1000}},
		{"a port both reserved and bound is subtracted once", []Socket{tcp(Listen, "0.0.0.0:40500", "0.0.0.0:0")}, "40500", sysctl.Range{},
			want{capacity: 999, reserved: 1, inRange: 1}},
		{"every state counts toward a destination, TIME_WAIT included", []Socket{
			tcp(Established, "10.0.0.1:40001", "10.0.0.2:443"),
			tcp(TimeWait, "10.0.0.1:40002", "10.0.0.2:443"),
			tcp(FinWait2, "10.0.0.1:40003", "10.0.0.2:443"),
		}, "", sysctl.Range{}, want{capacity: 1000, inRange: 3, dests: "10.0.0.1>10.0.0.2:443=3@0.0030", shared: 0.003}},
		{"v4-mapped sockets join their IPv4 destination", []Socket{
			tcp(Established, "[::ffff:10.0.0.1]:40001", "[::ffff:10.0.0.2]:443"),
			tcp(Established, "10.0.0.1:40002", "10.0.0.2:443"),
		}, "", sysctl.Range{}, want{capacity: 1000, inRange: 2, dests: "10.0.0.1>10.0.0.2:443=2@0.0020", shared: 0.002}},
		{"the source address is part of the destination", []Socket{
			tcp(Established, "10.0.0.1:40001", "10.0.0.2:443"),
			tcp(Established, "10.0.0.3:40001", "10.0.0.2:443"),
		}, "", sysctl.Range{}, want{capacity: 1000, inRange: 2,
			dests: "10.0.0.1>10.0.0.2:443=1@0.0010 10.0.0.3>10.0.0.2:443=1@0.0010", shared: 0.001}},
		{"sockets outside the range are counted but not used", []Socket{
			tcp(Established, "10.0.0.1:30000", "10.0.0.2:443"), udp("10.0.0.1:30001", "0.0.0.0:0"),
		}, "", sysctl.Range{}, want{capacity: 1000, udp: 1, tcp: map[string]int{Established: 1}}},
		{"UDP is shared use against the range without TCP's bound ports, never a destination", []Socket{
			udp("10.0.0.1:40001", "8.8.8.8:53"), udp("[::1]:40002", "[::]:0"), udp("10.0.0.1:40002", "0.0.0.0:0"),
			tcp(Listen, "0.0.0.0:40900", "0.0.0.0:0"),
		}, "40990-40999", sysctl.Range{}, want{capacity: 989, reserved: 10, bound: 1, inRange: 4, udp: 3, shared: 2.0 / 990}},
		{"shared use counts a port once across destinations", []Socket{
			tcp(Established, "10.0.0.1:40001", "10.0.0.2:443"),
			tcp(Established, "10.0.0.1:40001", "10.0.0.9:443"),
		}, "", sysctl.Range{}, want{capacity: 1000, inRange: 2,
			dests: "10.0.0.1>10.0.0.2:443=1@0.0010 10.0.0.1>10.0.0.9:443=1@0.0010", shared: 0.001}},
		{"no capacity left is full risk", []Socket{tcp(Established, "10.0.0.1:40000", "10.0.0.2:443")}, "40000-40001",
			sysctl.Range{Low: 40000, High: 40001},
			want{capacity: 0, reserved: 2, inRange: 1, dests: "10.0.0.1>10.0.0.2:443=1@1.0000", shared: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.rng
			if r == (sysctl.Range{}) {
				r = rng1000
			}
			at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
			s, err := Compute(tt.socks, sysctl.KernelState{Range: r, ReservedPorts: tt.reserved}, at)
			if err != nil {
				t.Fatal(err)
			}
			w := tt.want
			got := want{s.Capacity, s.Reserved, s.Bound, s.InRange, s.UDP, s.TCP, dests(s.Destinations), s.SharedUse}
			if w.tcp == nil {
				got.tcp = nil
			}
			if got.capacity != w.capacity || got.reserved != w.reserved || got.bound != w.bound || got.inRange != w.inRange ||
				got.udp != w.udp || !maps.Equal(got.tcp, w.tcp) || got.dests != w.dests || !near(got.shared, w.shared) {
				t.Errorf("got  %+v\nwant %+v", got, w)
			}
			if s.At != at || s.Range != r {
				t.Errorf("at, range = %v, %v", s.At, s.Range)
			}
			if wantRate := float64(w.capacity) / 60; !near(s.RatePerSecond, wantRate) {
				t.Errorf("rate = %v, want %v", s.RatePerSecond, wantRate)
			}
			if len(s.Destinations) > 0 != (s.Busiest != nil) || (s.Busiest != nil && *s.Busiest != s.Destinations[0]) {
				t.Errorf("busiest = %s, want the first of %s", destString(s.Busiest), dests(s.Destinations))
			}
		})
	}
}

func near(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }

// Ten destinations are listed, busiest first; equal counts are ordered by
// source address, then destination, so the page does not reshuffle
// between samples.
func TestComputeTopTen(t *testing.T) {
	var socks []Socket
	port := 40000
	add := func(local, remote string, n int) {
		for range n {
			socks = append(socks, tcp(Established, fmt.Sprintf("%s:%d", local, port), remote))
			port++
		}
	}
	for i := 1; i <= 10; i++ {
		add("10.0.0.1", fmt.Sprintf("10.0.1.%d:443", i), 2) // ten ties
	}
	add("10.0.0.2", "10.0.1.1:443", 2) // same remote, later source
	add("10.0.0.1", "10.0.1.1:80", 2)  // same address, lower port
	add("[::1]", "[::1]:443", 5)
	s, err := Compute(socks, sysctl.KernelState{Range: rng1000}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range s.Destinations {
		got = append(got, fmt.Sprintf("%s>%s=%d", d.LocalIP, d.Remote, d.Sockets))
	}
	want := "::1>[::1]:443=5 " +
		"10.0.0.1>10.0.1.1:80=2 10.0.0.1>10.0.1.1:443=2 10.0.0.1>10.0.1.2:443=2 10.0.0.1>10.0.1.3:443=2 " +
		"10.0.0.1>10.0.1.4:443=2 10.0.0.1>10.0.1.5:443=2 10.0.0.1>10.0.1.6:443=2 10.0.0.1>10.0.1.7:443=2 " +
		"10.0.0.1>10.0.1.8:443=2"
	if strings.Join(got, " ") != want {
		t.Errorf("top ten:\n got %s\nwant %s", strings.Join(got, " "), want)
	}
	if s.Busiest == nil || s.Busiest.Sockets != 5 || !near(s.Busiest.Risk, 0.005) {
		t.Errorf("busiest = %s", destString(s.Busiest))
	}
}

func TestComputeRefuses(t *testing.T) {
	tests := []struct {
		name string
		st   sysctl.KernelState
		want string
	}{
		{"reserved ports that do not parse", sysctl.KernelState{Range: rng1000, ReservedPorts: "80-x"}, "ip_local_reserved_ports"},
		{"a range with low above high", sysctl.KernelState{Range: sysctl.Range{Low: 5, High: 4}}, "not a valid port range"},
		{"a range beyond port 65535", sysctl.KernelState{Range: sysctl.Range{Low: 40000, High: 70000}}, "not a valid port range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Compute(nil, tt.st, time.Time{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

// The golden /proc text, computed: v4-mapped and plain IPv4 clients of
// 127.0.0.1:5001 form one destination with its TIME_WAIT socket.
func TestComputeGolden(t *testing.T) {
	skipUnlessLittleEndian(t)
	socks, _, err := Reader{ProcNet: "testdata/proc", NoNetlink: true}.Sockets(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	s, err := Compute(socks, sysctl.KernelState{Range: rng1000}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	want := "127.0.0.1>127.0.0.1:5001=3@0.0030 127.0.0.1>127.0.0.1:5003=1@0.0010 ::1>[::1]:5002=1@0.0010"
	if got := dests(s.Destinations); got != want {
		t.Errorf("destinations:\n got %s\nwant %s", got, want)
	}
	if !maps.Equal(s.TCP, map[string]int{Listen: 3, Established: 8, TimeWait: 1}) || s.UDP != 3 || s.InRange != 7 || !near(s.SharedUse, 0.005) {
		t.Errorf("tcp %v udp %d in range %d shared %v", s.TCP, s.UDP, s.InRange, s.SharedUse)
	}
}

// BenchmarkCompute: the model over 50,000 sockets to 50 destinations, as
// the sampler runs it after each scan.
func BenchmarkCompute(b *testing.B) {
	socks := make([]Socket, 0, 50000)
	for i := range 50000 {
		socks = append(socks, tcp(TimeWait, fmt.Sprintf("10.0.0.1:%d", 10000+i), fmt.Sprintf("10.0.1.%d:443", i%50)))
	}
	st := sysctl.KernelState{Range: sysctl.Range{Low: 10000, High: 65535}}
	for b.Loop() {
		if _, err := Compute(socks, st, time.Time{}); err != nil {
			b.Fatal(err)
		}
	}
}
