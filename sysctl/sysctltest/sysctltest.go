// Package sysctltest runs tests that write /proc/sys in a private network
// and mount namespace, so they can never change the host's settings: the
// test binary re-executes itself there for just the calling test.
package sysctltest

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

const (
	envInside = "PORTPANEL_IN_NETNS"     // "1" in the re-executed child
	envParent = "PORTPANEL_PARENT_NETNS" // the parent's netns, to prove we left it
)

// ProcSys is where the kernel settings live.
func ProcSys() string { return "/proc/sys" }

// InNetns reports whether the caller runs inside the private namespaces. In
// the parent it re-runs the current test (subtests included) in new network
// and mount namespaces and returns false once the child has passed; the
// caller then returns. In the child it makes the mounts private and returns
// true; the caller runs the test body. Without root the test is skipped,
// unless CI is set, where it fails: CI must run these tests.
//
//	if !sysctltest.InNetns(t) {
//		return
//	}
func InNetns(t *testing.T) bool {
	t.Helper()
	if os.Getenv(envInside) == "1" {
		checkPrivateNetns(t)
		if err := MakeMountsPrivate(); err != nil {
			t.Fatalf("make mounts private: %v", err)
		}
		return true
	}
	NeedRoot(t, "to create a network namespace")
	parentNS, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Fatalf("read own network namespace: %v", err)
	}
	cmd := exec.Command(os.Args[0], "-test.run="+runPattern(t.Name()), "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), envInside+"=1", envParent+"="+parentNS)
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET | syscall.CLONE_NEWNS}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("test in network namespace failed: %v\n%s", err, out)
	}
	// A filtered-out test also exits 0: insist that it ran. A skip inside
	// (a missing tool, say) is reported as a skip, never as a pass.
	if strings.Contains(string(out), "--- SKIP: "+t.Name()+" ") {
		t.Skipf("skipped in the network namespace:\n%s", out)
	}
	if !strings.Contains(string(out), "--- PASS: "+t.Name()+" ") {
		t.Fatalf("test did not run in the network namespace (no \"--- PASS: %s\"):\n%s", t.Name(), out)
	}
	if testing.Verbose() {
		t.Logf("in network namespace:\n%s", out)
	}
	return false
}

// NeedRoot skips the test unless it runs as root, or fails it where CI
// is set: CI must run every test that needs root. why completes "needs
// root …".
func NeedRoot(t testing.TB, why string) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatal("this test needs root " + why + ", and CI is set")
	}
	t.Skip("needs root " + why)
}

// runPattern builds a -test.run pattern matching exactly one test path.
func runPattern(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	return strings.Join(parts, "/")
}

// checkPrivateNetns stops a child that is not in a fresh network
// namespace (say, the env var leaked into a normal run) before it writes
// anything under /proc/sys.
func checkPrivateNetns(t *testing.T) {
	t.Helper()
	own, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Fatalf("read own network namespace: %v", err)
	}
	init1, _ := os.Readlink("/proc/1/ns/net")
	if parent := os.Getenv(envParent); parent == "" || own == parent || own == init1 {
		t.Fatalf("refusing to run: %s is set but this process is not in a private network namespace (%s)", envInside, own)
	}
}

// MakeMountsPrivate stops mounts made in this mount namespace from
// propagating to the host (mount --make-rprivate /).
func MakeMountsPrivate() error {
	return syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, "")
}

// ReadOnlyDir makes dir read-only for the rest of the test by bind-mounting
// it on itself. Only callable inside InNetns, whose mount namespace keeps
// the mount away from the host.
func ReadOnlyDir(t *testing.T, dir string) {
	t.Helper()
	if os.Getenv(envInside) != "1" {
		t.Fatal("ReadOnlyDir is only allowed inside InNetns")
	}
	if err := syscall.Mount(dir, dir, "", syscall.MS_BIND, ""); err != nil {
		t.Fatalf("bind-mount %s: %v", dir, err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	if err := syscall.Mount("", dir, "", syscall.MS_REMOUNT|syscall.MS_BIND|syscall.MS_RDONLY, ""); err != nil {
		t.Fatalf("remount %s read-only: %v", dir, err)
	}
}

// StaleProcSys builds a /proc/sys view whose range file is the real
// kernel's but whose ip_unprivileged_port_start says 1024, as if it had been
// raised between validation and write: validation passes and the real kernel
// refuses. Only meaningful inside InNetns.
func StaleProcSys(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	ipv4 := filepath.Join(dir, "net", "ipv4")
	if err := os.MkdirAll(ipv4, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/proc/sys/net/ipv4/ip_local_port_range", filepath.Join(ipv4, "ip_local_port_range")); err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]string{"ip_unprivileged_port_start": "1024\n", "ip_local_reserved_ports": "\n"} {
		if err := os.WriteFile(filepath.Join(ipv4, name), []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// FakeProcSys is a /proc/sys stand-in with the three files sysctl.Kernel
// reads, so serve runs without touching this host's settings.
func FakeProcSys(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	ipv4 := filepath.Join(dir, "net", "ipv4")
	if err := os.MkdirAll(ipv4, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, value := range map[string]string{
		"ip_local_port_range":        "32768\t60999\n",
		"ip_unprivileged_port_start": "1024\n",
		"ip_local_reserved_ports":    "\n",
	} {
		if err := os.WriteFile(filepath.Join(ipv4, name), []byte(value), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
