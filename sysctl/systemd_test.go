package sysctl

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"

	"portpanel/sysctl/sysctltest"
)

const systemdSysctl = "/lib/systemd/systemd-sysctl"

var catConfigHeader = regexp.MustCompile(`(?m)^# (/\S+\.conf)$`)

// TestBootMatchesSystemd checks the file-precedence model against the
// real systemd-sysctl: inside private network and mount namespaces the
// reader directories and /etc/sysctl.conf are bind-mounted from a temp
// tree; `--cat-config` (read-only) gives the files it reads, and
// `--prefix=/net/ipv4/ip_local_port_range` applies only our key, which is
// per network namespace, so the host is never touched either way.
func TestBootMatchesSystemd(t *testing.T) {
	if !sysctltest.InNetns(t) {
		return
	}
	if _, err := os.Stat(systemdSysctl); err != nil {
		t.Skipf("%s not installed", systemdSysctl)
	}
	K := Key
	cases := []struct {
		name string
		tree map[string]string
	}{
		{"Debian 12 link", map[string]string{conf: K + " = 1024 65001\n", etcD + "99-sysctl.conf": "-> ../sysctl.conf"}},
		{"absolute link", map[string]string{conf: K + " = 1024 65001\n", etcD + "99-sysctl.conf": "-> /etc/sysctl.conf"}},
		{"Debian 13 without link", map[string]string{conf: K + " = 1024 65001\n"}},
		{"99-zz after 99-sysctl", map[string]string{conf: K + " = 1024 65001\n", etcD + "99-sysctl.conf": "-> ../sysctl.conf", etcD + "99-zz.conf": K + " = 40000 50001\n"}},
		{"same name masks", map[string]string{etcD + "50-x.conf": "# mine\n", usrLibD + "50-x.conf": K + " = 2000 3001\n"}},
		{"/dev/null masks", map[string]string{etcD + "50-x.conf": "-> /dev/null", usrLibD + "50-x.conf": K + " = 2000 3001\n"}},
		{"empty file masks", map[string]string{etcD + "50-x.conf": "", usrLibD + "50-x.conf": K + " = 2000 3001\n"}},
		{"byte order", map[string]string{etcD + "20-b.conf": K + " = 2000 3001\n", usrLibD + "100-a.conf": K + " = 4000 5001\n"}},
		{"run and usr local", map[string]string{runD + "50-x.conf": K + " = 2000 3001\n", "/usr/local/lib/sysctl.d/50-x.conf": K + " = 4000 5001\n", "/usr/local/lib/sysctl.d/60-y.conf": K + " = 6000 7001\n"}},
		{"hidden and wrong suffixes", map[string]string{etcD + ".50-x.conf": K + " = 2000 3001\n", etcD + "50-x.CONF": K + " = 2000 3001\n", etcD + "50-x.conf.bak": K + " = 2000 3001\n"}},
		{"directory named x.conf", map[string]string{etcD + "50-x.conf": "<dir>", usrLibD + "50-x.conf": K + " = 2000 3001\n"}},
		{"dangling link", map[string]string{etcD + "50-x.conf": "-> 40-gone.conf", usrLibD + "50-x.conf": K + " = 2000 3001\n"}},
		{"drop", map[string]string{etcD + "10-a.conf": K + " = 2000 3001\n", etcD + "20-b.conf": "-" + K + "\n"}},
		{"assignment after drop", map[string]string{etcD + "10-a.conf": "-" + K + "\n", etcD + "20-b.conf": "net/ipv4/ip_local_port_range=2000 3001\n"}},
		{"lone CR", map[string]string{etcD + "50-x.conf": "# note\r" + K + " = 2000 3001\n"}},
		{"refused value", map[string]string{etcD + "10-a.conf": K + " = 2000 3001\n", etcD + "20-b.conf": K + " = 3001 2000\n"}},
	}
	k := Kernel{ProcSys: sysctltest.ProcSys()}
	def := Range{Low: 32768, High: 60999}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := tree(t, tc.tree)
			mountTree(t, c.root())
			b, err := c.Boot(ReaderSystemd)
			if err != nil {
				t.Fatal(err)
			}
			// It exits 1 when it cannot read a listed file, as Boot
			// reports a problem.
			out, err := exec.Command(systemdSysctl, "--cat-config", "--no-pager").CombinedOutput()
			if (err != nil) != (len(b.Problems) > 0) {
				t.Errorf("--cat-config: %v, Boot problems %q\n%s", err, b.Problems, out)
			}
			var real, model []string
			for _, m := range catConfigHeader.FindAllStringSubmatch(string(out), -1) {
				// A directory gets a header before failing to read.
				if !strings.Contains(string(out), "Failed to cat "+m[1]) {
					real = append(real, m[1])
				}
			}
			for _, f := range b.Files {
				model = append(model, c.display(f))
			}
			if !slices.Equal(real, model) {
				t.Errorf("systemd-sysctl reads %q, Boot says %q\n%s", real, model, out)
			}

			if err := k.WriteRange(def); err != nil {
				t.Fatal(err)
			}
			out, _ = exec.Command(systemdSysctl, "--prefix=/net/ipv4/ip_local_port_range").CombinedOutput()
			got, err := k.ReadRange()
			if err != nil {
				t.Fatal(err)
			}
			want := def
			if b.Set && b.Range != nil {
				want = *b.Range
			}
			if got != want {
				t.Errorf("systemd-sysctl set %v, Boot says %v (value %q, dropped %v)\n%s", got, want, b.Value, b.Dropped, out)
			}
		})
	}
}

// mountTree shows root's reader directories and sysctl.conf at the system
// paths, for the rest of the test. /run and /usr/local/lib get a tmpfs
// first so the mount points can be created without touching the host.
func mountTree(t *testing.T, root string) {
	t.Helper()
	mount := func(src, dst, fstype string, flags uintptr) {
		t.Helper()
		if err := syscall.Mount(src, dst, fstype, flags, ""); err != nil {
			t.Fatalf("mount %s on %s: %v", src, dst, err)
		}
		t.Cleanup(func() { syscall.Unmount(dst, syscall.MNT_DETACH) })
	}
	// Mount points outside the tmpfs mounts must already exist: creating
	// them would change the host.
	for _, p := range []string{etcD, usrLibD, conf, "/usr/local/lib"} {
		if _, err := os.Stat(p); err != nil {
			t.Skipf("needs %s to exist as a mount point: %v", p, err)
		}
	}
	mount("tmpfs", "/run", "tmpfs", 0)
	mount("tmpfs", "/usr/local/lib", "tmpfs", 0)
	for _, d := range []string{runD, "/usr/local/lib/sysctl.d/"} {
		if err := os.Mkdir(d, 0o755); err != nil { // inside the tmpfs mounts
			t.Fatal(err)
		}
	}
	for _, d := range readerDirs(ReaderSystemd) {
		src := filepath.Join(root, d)
		if err := os.MkdirAll(src, 0o755); err != nil {
			t.Fatal(err)
		}
		mount(src, d, "", syscall.MS_BIND)
	}
	src := filepath.Join(root, conf)
	if _, err := os.Lstat(src); err != nil {
		if err := os.WriteFile(src, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mount(src, conf, "", syscall.MS_BIND)
}
