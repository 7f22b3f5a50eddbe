package netns

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"portpanel/sysctl"
	"portpanel/sysctl/sysctltest"
	"portpanel/sysctl/usage"
)

// fakeProc builds a /proc stand-in: per PID a ns/net link (the kernel's
// link targets are "net:[INODE]"), a stat and a cgroup file.
type fakeProc struct {
	t    *testing.T
	root string
}

func newFakeProc(t *testing.T, self uint64, capEff string) fakeProc {
	f := fakeProc{t, t.TempDir()}
	f.link("self", self)
	f.write("self/status", "Name:\tportpanel\nCapEff:\t"+capEff+"\n")
	return f
}

func (f fakeProc) write(name, content string) {
	p := filepath.Join(f.root, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		f.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		f.t.Fatal(err)
	}
}

func (f fakeProc) link(dir string, inode uint64) {
	p := filepath.Join(f.root, dir, "ns")
	if err := os.MkdirAll(p, 0o755); err != nil {
		f.t.Fatal(err)
	}
	if err := os.Symlink(ID(inode), filepath.Join(p, "net")); err != nil {
		f.t.Fatal(err)
	}
}

// process adds a process; flags 0x00200000 marks a kernel thread.
func (f fakeProc) process(pid int, inode uint64, comm string, flags uint64, cgroup string) {
	dir := fmt.Sprint(pid)
	f.link(dir, inode)
	f.write(dir+"/stat", fmt.Sprintf("%d (%s) S 1 %d %d 0 -1 %d 0 0 0 0 1 2 0 0 20 0 1 0 100 0 0", pid, comm, pid, pid, flags))
	f.write(dir+"/cgroup", cgroup)
}

// TestScanFakeProc checks the grouping on a /proc stand-in, where no
// namespace can be entered: the fake links point nowhere.
func TestScanFakeProc(t *testing.T) {
	f := newFakeProc(t, 100, "0000000000000000")
	f.process(1, 100, "systemd", 0x400100, "0::/init.scope")
	f.process(2, 100, "kthreadd", 0x208040, "0::/")
	for pid := 10; pid <= 40; pid++ {
		f.process(pid, 200, "nginx", 0x400100, "0::/system.slice/docker-"+dockerID+".scope")
	}
	f.write("50/stat", "50 (gone) Z 1 50 50 0 -1 0") // exited: no ns/net left
	f.process(60, 300, "my (odd) name", 0x400100, "0::/system.slice/containerd.service")
	f.process(61, 300, "app", 0x400100, "0::/kubepods.slice/kubepods-pod"+testPodU+".slice/cri-containerd-"+innerID+".scope")
	f.link("70", 400) // no stat: exited between the two reads
	procSys := sysctltest.FakeProcSys(t)
	at := time.Date(2025, 5, 1, 12, 0, 0, 0, time.UTC)
	s := Scanner{Proc: f.root, ProcSys: procSys, NamedDir: t.TempDir(), Now: func() time.Time { return at },
		OwnUsage: func() (usage.Snapshot, bool) { return usage.Snapshot{Capacity: 123}, true }}

	sc, err := s.Scan(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range sc.Namespaces {
		var pids []string
		for _, p := range n.Processes {
			pids = append(pids, fmt.Sprintf("%d:%s", p.PID, p.Comm))
		}
		got = append(got, fmt.Sprintf("%d self=%v owner=%q count=%d listed=%d first=%s", n.Inode, n.Self, n.Owner, n.ProcessCount, len(n.Processes), pids[0]))
	}
	want := []string{
		`100 self=true owner="no container or unit recognised" count=1 listed=1 first=1:systemd`,
		`200 self=false owner="Docker container 4f3c1c7bd5a0" count=31 listed=20 first=10:nginx`,
		`300 self=false owner="Kubernetes pod ` + testPod + ` (containerd)" count=2 listed=2 first=60:my (odd) name`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("namespaces:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	t.Run("portpanel's own is read without entering it", func(t *testing.T) {
		own := sc.Namespaces[0]
		if own.Kernel == nil || own.Kernel.Range != sysctl.DefaultRange || sc.Reference != own.Kernel || own.Error != "" {
			t.Fatalf("own kernel %+v, reference %p, error %q", own.Kernel, sc.Reference, own.Error)
		}
		if own.Usage == nil || own.Usage.Capacity != 123 || own.Initial {
			t.Errorf("own usage %+v (the sampler's), initial %v", own.Usage, own.Initial)
		}
	})
	t.Run("a process's owner is its own, the pod's namespace names the pod", func(t *testing.T) {
		ps := sc.Namespaces[2].Processes
		if ps[0].Owner != (Owner{Kind: KindUnit, Name: "containerd.service"}) || ps[1].Owner.ID != innerID || sc.Namespaces[2].Owner.ID != "" {
			t.Errorf("owners %+v, namespace %+v", ps, sc.Namespaces[2].Owner)
		}
	})
	t.Run("namespaces it cannot enter say why", func(t *testing.T) {
		for _, n := range sc.Namespaces[1:] {
			if n.Kernel != nil || n.Error != reasonGone || n.RangeDiffers {
				t.Errorf("%s: kernel %+v error %q differs %v", n.ID(), n.Kernel, n.Error, n.RangeDiffers)
			}
		}
	})
	t.Run("missing capabilities are named", func(t *testing.T) {
		if len(sc.Limits) != 2 || !strings.Contains(sc.Limits[0], "CAP_SYS_PTRACE") || !strings.Contains(sc.Limits[1], "CAP_SYS_ADMIN") {
			t.Errorf("limits = %q", sc.Limits)
		}
		if !sc.At.Equal(at) || sc.Self != 100 {
			t.Errorf("at %v self %d", sc.At, sc.Self)
		}
	})
}

func TestReadStat(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		name, content, comm string
		kthread             bool
		err                 bool
	}{
		{"a process", "42 (sshd) S 1 42 42 0 -1 4194560 1 0", "sshd", false, false},
		{"a kernel thread", "2 (kthreadd) S 0 0 0 0 -1 2129984 0 0", "kthreadd", true, false},
		{"parentheses and spaces in the name", "7 (a) b (c) R 1 7 7 0 -1 0 0", "a) b (c", false, false},
		{"cut short", "7 (a) R 1", "", false, true},
		{"no name", "7 a R 1 7 7 0 -1 0", "", false, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, "stat")
			if err := os.WriteFile(p, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			st, err := readStat(p)
			if (err != nil) != tt.err || st.comm != tt.comm || st.kthread != tt.kthread {
				t.Errorf("readStat = %+v, %v; want comm %q kthread %v error %v", st, err, tt.comm, tt.kthread, tt.err)
			}
		})
	}
}
