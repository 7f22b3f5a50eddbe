package netns

import (
	"context"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"portpanel/sysctl"
	"portpanel/sysctl/netns/netnstest"
	"portpanel/sysctl/usage"
)

// TestScanChildNamespaces starts real children in network namespaces of
// their own and checks what the scan reads by entering them:
//   - differs: its own range 40000-50001 and reserved ports, set inside
//     it, and 3 loopback connections;
//   - same: the range of the test's own namespace, so no mark.
func TestScanChildNamespaces(t *testing.T) {
	ownState, err := sysctl.Kernel{ProcSys: "/proc/sys"}.Read()
	if err != nil {
		t.Fatal(err)
	}
	differs := netnstest.Start(t, netnstest.Spec{Range: "40000 50001", Reserved: "40500,40600-40609", Conns: 3})
	same := netnstest.Start(t, netnstest.Spec{Range: ownState.Range.String()})

	sc, err := Scanner{}.Scan(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	byInode := map[uint64]Namespace{}
	for _, n := range sc.Namespaces {
		byInode[n.Inode] = n
	}
	d, s := byInode[differs.Inode], byInode[same.Inode]

	t.Run("portpanel's own comes first and is the reference", func(t *testing.T) {
		own := sc.Namespaces[0]
		if !own.Self || own.Kernel == nil || own.Kernel.Range != ownState.Range || sc.Reference == nil || *sc.Reference != ownState {
			t.Fatalf("first namespace %+v, reference %+v; want own with %v", own, sc.Reference, ownState)
		}
		if own.Usage == nil {
			t.Errorf("own usage not read: %s", own.UsageError)
		}
	})
	t.Run("a range of its own, read inside it, is marked", func(t *testing.T) {
		if d.Kernel == nil {
			t.Fatalf("not read: %q", d.Error)
		}
		if d.Kernel.Range != (sysctl.Range{Low: 40000, High: 50001}) || d.Kernel.ReservedPorts != "40500,40600-40609" {
			t.Errorf("kernel %+v", d.Kernel)
		}
		if !d.RangeDiffers || d.Initial || d.Self || d.Owner.Kind == KindHost {
			t.Errorf("differs %v initial %v self %v owner %v", d.RangeDiffers, d.Initial, d.Self, d.Owner)
		}
		if d.ReservedDiffer != (ownState.ReservedPorts != d.Kernel.ReservedPorts) {
			t.Errorf("reserved differ = %v", d.ReservedDiffer)
		}
		if d.ProcessCount != 1 || len(d.Processes) != 1 || d.Processes[0].PID != differs.PID || d.Processes[0].Comm == "" {
			t.Errorf("processes %d %+v, want the child %d", d.ProcessCount, d.Processes, differs.PID)
		}
	})
	t.Run("its sockets are its own", func(t *testing.T) {
		u := d.Usage
		if u == nil {
			t.Fatalf("usage not read: %q", d.UsageError)
		}
		// 10,002 ports, 11 reserved; 3 connections each way and the
		// listener (on a port outside the range).
		if u.Range != d.Kernel.Range || u.Capacity != 9991 || u.Reserved != 11 ||
			u.TCP[usage.Established] != 6 || u.TCP[usage.Listen] != 1 || u.Source != usage.SourceNetlink {
			t.Errorf("usage %+v", u)
		}
		want := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), differs.Port)
		if b := u.Busiest; b == nil || b.Remote != want || b.Sockets != 3 || b.Risk != 3.0/9991 {
			t.Errorf("busiest %+v, want %s with 3 sockets", b, want)
		}
	})
	t.Run("the same range is not marked", func(t *testing.T) {
		if s.Kernel == nil || s.RangeDiffers || s.Usage == nil || s.Usage.Busiest != nil {
			t.Errorf("%+v", s)
		}
	})
	t.Run("marked ones are listed before the others", func(t *testing.T) {
		for i, n := range sc.Namespaces[1:] {
			if !n.RangeDiffers && i+2 < len(sc.Namespaces) && sc.Namespaces[i+2].RangeDiffers {
				t.Errorf("%s (unmarked) before %s (marked)", n.ID(), sc.Namespaces[i+2].ID())
			}
		}
	})
	t.Run("every thread is back in portpanel's namespace", func(t *testing.T) {
		tasks, _ := filepath.Glob("/proc/self/task/*/ns/net")
		for _, l := range tasks {
			if ino, err := readLink(l); err == nil && ino != sc.Self {
				t.Errorf("%s is in %s", l, ID(ino))
			}
		}
	})
	t.Run("as root with every capability, none is missing", func(t *testing.T) {
		// A sandbox's own PID 1 may still be unreadable (Unreadable).
		if l := strings.Join(sc.Limits, " "); strings.Contains(l, "CAP_") {
			t.Errorf("limits %q", sc.Limits)
		}
	})
}

// capCases are scans under smaller capability sets, as portpanel.service
// runs (root, bounding set only): the drop-in's two capabilities read
// every namespace; without CAP_SYS_ADMIN a namespace is listed with the
// reason it was not read; with none (the shipped unit) root's processes
// are out of sight and the page says why.
var capCases = []struct {
	name, bounding string
	check          func(t *testing.T, sc Scan, child Namespace, found bool)
}{
	{"the drop-in's CAP_SYS_ADMIN and CAP_SYS_PTRACE", "-all,+sys_admin,+sys_ptrace", func(t *testing.T, sc Scan, child Namespace, found bool) {
		if !found || child.Kernel == nil || child.Kernel.Range.Low != 40000 || child.Usage == nil {
			t.Errorf("child's namespace (found %v): kernel %+v, error %q", found, child.Kernel, child.Error)
		}
		if l := strings.Join(sc.Limits, " "); strings.Contains(l, "CAP_") {
			t.Errorf("limits = %q", sc.Limits)
		}
	}},
	{"without CAP_SYS_ADMIN", "-sys_admin", func(t *testing.T, sc Scan, child Namespace, found bool) {
		if !found || child.Kernel != nil || child.Error != reasonSetns {
			t.Errorf("child's namespace (found %v): kernel %+v, error %q", found, child.Kernel, child.Error)
		}
		if l := strings.Join(sc.Limits, " "); !strings.Contains(l, "without CAP_SYS_ADMIN") || strings.Contains(l, "CAP_SYS_PTRACE") {
			t.Errorf("limits = %q", sc.Limits)
		}
	}},
	{"with no capability, as portpanel.service ships", "-all", func(t *testing.T, sc Scan, child Namespace, found bool) {
		if found || sc.Unreadable == 0 {
			t.Errorf("child's namespace found (%v), unreadable %d: root's processes should be out of reach", found, sc.Unreadable)
		}
		if l := strings.Join(sc.Limits, " "); !strings.Contains(l, "without CAP_SYS_PTRACE") || !strings.Contains(l, "could not be read") {
			t.Errorf("limits = %q", sc.Limits)
		}
	}},
}

// TestScanWithCapabilities re-runs the scan in this test binary under
// setpriv with each of capCases' bounding sets, against a child of its own.
func TestScanWithCapabilities(t *testing.T) {
	const envCase, envInode = "PORTPANEL_NETNS_TEST_CASE", "PORTPANEL_NETNS_TEST_INODE"
	if name := os.Getenv(envCase); name != "" {
		inode, _ := strconv.ParseUint(os.Getenv(envInode), 10, 64)
		sc, err := Scanner{}.Scan(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if own, ok := sc.SelfNamespace(); !ok || own.Kernel == nil {
			t.Errorf("own namespace not read: %s", own.Error)
		}
		var child Namespace
		var found bool
		for _, n := range sc.Namespaces {
			if n.Inode == inode {
				child, found = n, true
			}
		}
		for _, c := range capCases {
			if c.name == name {
				c.check(t, sc, child, found)
			}
		}
		return
	}
	child := netnstest.Start(t, netnstest.Spec{Range: "40000 50001"})
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Fatalf("setpriv (util-linux) is needed: %v", err)
	}
	for _, c := range capCases {
		t.Run(c.name, func(t *testing.T) {
			cmd := exec.Command(setpriv, "--bounding-set="+c.bounding, "--inh-caps=-all", "--",
				os.Args[0], "-test.run=^TestScanWithCapabilities$", "-test.v", "-test.count=1")
			cmd.Env = append(os.Environ(), envCase+"="+c.name, envInode+"="+strconv.FormatUint(child.Inode, 10))
			out, err := cmd.CombinedOutput()
			if err != nil || !strings.Contains(string(out), "--- PASS: TestScanWithCapabilities") {
				t.Fatalf("scan with bounding set %s: %v\n%s", c.bounding, err, out)
			}
		})
	}
}
