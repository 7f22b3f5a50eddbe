package usage

import (
	"context"
	"maps"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"portpanel/sysctl"
	"portpanel/sysctl/sysctltest"
)

// TestSocketsInNetns opens real sockets in a private network namespace
// with a 1000-port range, 10 of them reserved:
//   - listeners on 127.0.0.1:5001, [::1]:5002 and 127.0.0.1:0, the last
//     taking an in-range port by bind(0);
//   - 7 clients of 127.0.0.1:5001 (5 IPv4, 2 dual-stack IPv6 through
//     ::ffff:127.0.0.1) and 3 of [::1]:5002, every one accepted;
//   - 3 and 1 of them closed client first, so the client sockets sit in
//     TIME_WAIT and the server sockets are gone;
//   - UDP sockets on 127.0.0.1:0 (in range) and [::1]:5353.
//
// Both readers must see exactly that, and agree socket for socket.
func TestSocketsInNetns(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	setupNetns(t, map[string]string{
		"ipv4/ip_local_port_range":     "40000 40999",
		"ipv4/ip_local_reserved_ports": "40990-40999",
		"ipv4/tcp_tw_reuse":            "0", // keep TIME_WAIT sockets for the whole test
	})
	st, err := sysctl.Kernel{ProcSys: sysctltest.ProcSys()}.Read()
	if err != nil {
		t.Fatal(err)
	}
	d1 := netip.MustParseAddrPort("127.0.0.1:5001")
	d2 := netip.MustParseAddrPort("[::1]:5002")
	l1, _ := listenTCP(t, d1)
	l2, _ := listenTCP(t, d2)
	listenTCP(t, netip.MustParseAddrPort("127.0.0.1:0"))
	openSocket(t, syscall.SOCK_DGRAM, netip.MustParseAddrPort("127.0.0.1:0"))
	openSocket(t, syscall.SOCK_DGRAM, netip.MustParseAddrPort("[::1]:5353"))

	clientPorts := map[uint16]bool{}
	connect := func(fam int, to netip.AddrPort, lfd int, closeIt bool) {
		c, local, err := dialTCP(fam, to)
		if err != nil {
			t.Fatalf("connect to %s: %v", to, err)
		}
		s, _, err := acceptTCP(lfd)
		if err != nil {
			t.Fatalf("accept on %s: %v", to, err)
		}
		clientPorts[local.Port()] = true
		if closeIt { // client first: the client socket goes to TIME_WAIT
			syscall.Close(c)
			syscall.Close(s)
			return
		}
		t.Cleanup(func() { syscall.Close(c); syscall.Close(s) })
	}
	for i := range 5 {
		connect(syscall.AF_INET, d1, l1, i < 2)
	}
	for i := range 2 {
		connect(syscall.AF_INET6, d1, l1, i < 1)
	}
	for i := range 3 {
		connect(syscall.AF_INET6, d2, l2, i < 1)
	}
	wantTCP := map[string]int{Listen: 3, Established: 12, TimeWait: 4}
	waitForStates(t, wantTCP)

	ctx := context.Background()
	var snaps []Snapshot
	var lists [][]Socket
	for _, tt := range []struct {
		name   string
		r      Reader
		source Source
	}{
		{"netlink", Reader{ProcNet: "/proc/net"}, SourceNetlink},
		{"proc", Reader{ProcNet: "/proc/net", NoNetlink: true}, SourceProc},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, socks, err := tt.r.Take(ctx, st, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if s.Source != tt.source {
				t.Errorf("source = %q, want %q", s.Source, tt.source)
			}
			if !maps.Equal(s.TCP, wantTCP) || s.UDP != 2 {
				t.Errorf("tcp = %v, udp = %d; want %v, 2", s.TCP, s.UDP, wantTCP)
			}
			// 1000 ports, 10 reserved, 1 held by the bind(0) listener.
			if s.Capacity != 989 || s.Reserved != 10 || s.Bound != 1 || s.InRange != 12 {
				t.Errorf("capacity %d reserved %d bound %d in range %d; want 989 10 1 12", s.Capacity, s.Reserved, s.Bound, s.InRange)
			}
			want := "127.0.0.1>127.0.0.1:5001=7@0.0071 ::1>[::1]:5002=3@0.0030"
			if got := dests(s.Destinations); got != want || destString(s.Busiest) != destString(&s.Destinations[0]) {
				t.Errorf("destinations = %s, busiest %s; want %s", got, destString(s.Busiest), want)
			}
			if w := max(float64(len(clientPorts))/989, 1.0/990); !near(s.SharedUse, w) {
				t.Errorf("shared use = %v, want %v", s.SharedUse, w)
			}
			if !near(s.RatePerSecond, 989.0/60) {
				t.Errorf("rate = %v", s.RatePerSecond)
			}
			s.Source = ""
			snaps = append(snaps, s)
			lists = append(lists, socks)
		})
	}
	t.Run("both paths agree", func(t *testing.T) {
		if len(snaps) != 2 {
			t.Skip("a reader failed")
		}
		snaps[0].At, snaps[1].At = time.Time{}, time.Time{}
		if !reflect.DeepEqual(snaps[0], snaps[1]) {
			t.Errorf("snapshots differ:\nnetlink %+v\nproc    %+v", snaps[0], snaps[1])
		}
		for _, l := range lists {
			slices.SortFunc(l, compareSockets)
		}
		if !slices.Equal(lists[0], lists[1]) {
			t.Errorf("sockets differ:\nnetlink %v\nproc    %v", lists[0], lists[1])
		}
	})
	t.Run("totals", func(t *testing.T) {
		got, err := Reader{ProcNet: "/proc/net"}.Totals(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// IPv4: 2 listeners, 3 open IPv4 clients, 4 accepted from
		// 127.0.0.1:5001 (dual-stack clients included). IPv6: 1
		// listener, 1 open dual-stack client, 2 clients and 2 accepted
		// on [::1]:5002.
		if got.TCP != 9 || got.TCP6 != 6 || got.TimeWait != 4 || got.UDP != 1 || got.UDP6 != 1 || got.TCPAlloc < 15 {
			t.Errorf("totals = %+v, want TCP 9 TCP6 6 TimeWait 4 UDP 1 UDP6 1 TCPAlloc >= 15", got)
		}
	})
	t.Run("a cancelled context stops the scan", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		for _, r := range []Reader{{}, {NoNetlink: true}} {
			if _, _, err := r.Sockets(cctx); err == nil || !strings.Contains(err.Error(), "context canceled") {
				t.Errorf("NoNetlink=%v: err = %v", r.NoNetlink, err)
			}
		}
	})
}

func compareSockets(a, b Socket) int {
	return strings.Compare(a.Proto+a.State+a.Local.String()+a.Remote.String(), b.Proto+b.State+b.Local.String()+b.Remote.String())
}

// waitForStates waits for the server sides of the closed connections to
// finish (CLOSE_WAIT, LAST_ACK) so the counts are exact.
func waitForStates(t *testing.T, want map[string]int) {
	t.Helper()
	var got map[string]int
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		socks, _, err := Reader{NoNetlink: true}.Sockets(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		got = map[string]int{}
		for _, s := range socks {
			if s.Proto == TCP {
				got[s.State]++
			}
		}
		if maps.Equal(got, want) {
			return
		}
	}
	t.Fatalf("TCP states = %v, want %v", got, want)
}
