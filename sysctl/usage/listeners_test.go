package usage

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"testing"

	"portpanel/sysctl"
	"portpanel/sysctl/sysctltest"
)

const procHeader = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"

func TestParseListeners(t *testing.T) {
	tests := []struct {
		name, proto, table string
		want               []string // "proto local inode"
	}{
		{name: "TCP: only listening rows, with their inodes", proto: TCP, table: procHeader +
			"   0: 0100007F:1538 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4711 1 0 100 0 0 10 0\n" +
			"   1: 0100007F:9C40 0100007F:1538 01 00000000:00000000 00:00000000 00000000     0        0 4712 1 0 20 4 30 10 -1\n" +
			"   2: 0100007F:9C41 0100007F:1538 06 00000000:00000000 03:00001770 00000000     0        0 0 3 0\n",
			want: []string{"tcp 127.0.0.1:5432 4711"}},
		{name: "TCP over IPv6, dual-stack listener unmapped", proto: TCP, table: procHeader +
			"   0: 00000000000000000000000001000000:18EB 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000   110        0 99 1 0 100 0 0 10 0\n" +
			"   1: 0000000000000000FFFF00000100007F:20FB 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000   110        0 100 1 0 100 0 0 10 0\n",
			want: []string{"tcp 127.0.0.1:8443 100", "tcp [::1]:6379 99"}},
		{name: "UDP: unconnected rows only", proto: UDP, table: procHeader +
			"  10: 00000000:14E9 00000000:0000 07 00000000:00000000 00:00000000 00000000   104        0 555 2 0 0\n" +
			"  11: 0100007F:A000 0100007F:0035 01 00000000:00000000 00:00000000 00000000     0        0 556 2 0 0\n",
			want: []string{"udp 0.0.0.0:5353 555"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ls, err := parseListeners(strings.NewReader(tt.table), tt.proto, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := listenerStrings(ls, false); !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	if _, err := parseListeners(strings.NewReader(procHeader+"   0: 0100007F:1538 00000000:0000 0A 0 0 0 0 0 x\n"), TCP, nil); err == nil {
		t.Error("a row with a bad inode parsed, want an error")
	}
}

// listenerStrings renders listeners as "proto local inode" (with
// "process pid" when named), sorted.
func listenerStrings(ls []Listener, named bool) []string {
	var out []string
	for _, l := range ls {
		s := fmt.Sprintf("%s %s %d", l.Proto, l.Local, l.Inode)
		if named {
			s += fmt.Sprintf(" %s %d", l.Process, l.PID)
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// TestListenersInNetns opens real sockets in a private network namespace
// with the range 40000-40999: TCP listeners on 127.0.0.1:5432, [::1]:6379
// and an in-range port taken by bind(0); UDP sockets bound to
// 127.0.0.1:5353 and to an in-range port; a TCP client connected to
// 5432 and a connected UDP socket. Both readers must list the three TCP
// listeners and the UDP socket outside the range, each with the inode
// fstat gives its descriptor, and Owners must name this process.
func TestListenersInNetns(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	setupNetns(t, map[string]string{"ipv4/ip_local_port_range": "40000 40999"})
	rng := sysctl.Range{Low: 40000, High: 40999}
	var want []string
	expect := func(proto string, fd int, local netip.AddrPort) {
		var st syscall.Stat_t
		if err := syscall.Fstat(fd, &st); err != nil {
			t.Fatal(err)
		}
		want = append(want, fmt.Sprintf("%s %s %d %s %d", proto, local, st.Ino, ownComm(t), os.Getpid()))
	}
	pg := netip.MustParseAddrPort("127.0.0.1:5432")
	fd, local := listenTCP(t, pg)
	expect(TCP, fd, local)
	fd, local = listenTCP(t, netip.MustParseAddrPort("[::1]:6379"))
	expect(TCP, fd, local)
	fd, local = listenTCP(t, netip.MustParseAddrPort("127.0.0.1:0"))
	if p := local.Port(); p < 40000 || p > 40999 {
		t.Fatalf("bind(0) took %d, outside the range", p)
	}
	expect(TCP, fd, local)
	fd, local = openSocket(t, syscall.SOCK_DGRAM, netip.MustParseAddrPort("127.0.0.1:5353"))
	expect(UDP, fd, local)
	openSocket(t, syscall.SOCK_DGRAM, netip.MustParseAddrPort("127.0.0.1:0")) // a client's port: left out
	ufd, _ := openSocket(t, syscall.SOCK_DGRAM, netip.MustParseAddrPort("127.0.0.1:0"))
	if err := syscall.Connect(ufd, sockaddr(netip.MustParseAddrPort("127.0.0.1:53"), syscall.AF_INET)); err != nil {
		t.Fatal(err)
	}
	c, _, err := dialTCP(syscall.AF_INET, pg)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(c)
	slices.Sort(want)

	for _, r := range []Reader{{}, {NoNetlink: true}} {
		t.Run(fmt.Sprintf("NoNetlink=%v", r.NoNetlink), func(t *testing.T) {
			ls, src, err := r.Listeners(context.Background(), rng)
			if err != nil {
				t.Fatal(err)
			}
			if wantSrc := map[bool]Source{false: SourceNetlink, true: SourceProc}[r.NoNetlink]; src != wantSrc {
				t.Errorf("source %s, want %s", src, wantSrc)
			}
			var o Owners
			if err := o.Name(context.Background(), ls); err != nil {
				t.Fatal(err)
			}
			if got := listenerStrings(ls, true); !slices.Equal(got, want) {
				t.Errorf("listeners\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

func ownComm(t *testing.T) string {
	b, err := os.ReadFile("/proc/self/comm")
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// TestOwnersRemembers names listeners from a fake /proc, then from memory
// alone once /proc is gone: a listener seen before costs no walk, nor does
// one that could not be named.
func TestOwnersRemembers(t *testing.T) {
	proc := t.TempDir()
	fakeProcess(t, proc, 812, "postgres", map[string]string{"3": "socket:[4711]", "4": "/dev/null", "5": "pipe:[9]"})
	fakeProcess(t, proc, 900, "redis-server", map[string]string{"7": "socket:[4712]"})
	o := Owners{Proc: proc}
	ls := []Listener{{Proto: TCP, Inode: 4711}, {Proto: TCP, Inode: 4712}, {Proto: UDP, Inode: 1}, {Proto: UDP}}
	if err := o.Name(context.Background(), ls); err != nil {
		t.Fatal(err)
	}
	named := func(ls []Listener) [][2]any {
		var out [][2]any
		for _, l := range ls {
			out = append(out, [2]any{l.Process, l.PID})
		}
		return out
	}
	want := [][2]any{{"postgres", 812}, {"redis-server", 900}, {"", 0}, {"", 0}}
	if got := named(ls); !reflect.DeepEqual(got, want) {
		t.Fatalf("named %v, want %v", got, want)
	}
	if err := os.RemoveAll(proc); err != nil {
		t.Fatal(err)
	}
	again := []Listener{{Proto: TCP, Inode: 4711}, {Proto: UDP, Inode: 1}}
	if err := o.Name(context.Background(), again); err != nil {
		t.Fatalf("Name walked /proc for inodes it knew: %v", err)
	}
	if got := named(again); !reflect.DeepEqual(got, [][2]any{{"postgres", 812}, {"", 0}}) {
		t.Errorf("from memory %v, want postgres 812 and an unnamed one", got)
	}
	if err := o.Name(context.Background(), []Listener{{Proto: TCP, Inode: 5000}}); err == nil {
		t.Error("a new inode with /proc gone named without error, want the walk's error")
	}
}

func fakeProcess(t *testing.T, proc string, pid int, comm string, fds map[string]string) {
	t.Helper()
	dir := filepath.Join(proc, fmt.Sprint(pid))
	if err := os.MkdirAll(filepath.Join(dir, "fd"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "comm"), []byte(comm+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for fd, target := range fds {
		if err := os.Symlink(target, filepath.Join(dir, "fd", fd)); err != nil {
			t.Fatal(err)
		}
	}
}
