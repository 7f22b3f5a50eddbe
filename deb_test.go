package main

import (
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"portpanel/sysctl/sysctltest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// envDeb carries the built package into the re-executed test, where it is
// installed; envRev the commit it was built from.
const (
	envDeb = "PORTPANEL_TEST_DEB"
	envRev = "PORTPANEL_TEST_REV"
)

// TestDebPackage builds the Debian package with packaging/build.sh, lints
// it, and installs it for real with dpkg in private mount and network
// namespaces whose /etc, /usr and /var are overlays on a tmpfs and whose
// /run is a tmpfs (debInstall): install, start, remove and purge change
// nothing on this host, which the parent checks before and after.
func TestDebPackage(t *testing.T) {
	if deb := os.Getenv(envDeb); deb != "" {
		if sysctltest.InNetns(t) { // true: this is the re-executed child
			debInstall(t, deb, os.Getenv(envRev))
		}
		return
	}
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("the package test installs with dpkg in private namespaces: it needs root, and CI is set")
		}
		t.Skip("needs root: installs the package with dpkg in private namespaces")
	}
	for _, tool := range []string{"git", "gzip", "dpkg", "dpkg-deb", "dpkg-query", "lintian", "adduser", "deluser", "getent", "ip", "systemd-analyze"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is missing, and CI is set: test.sh installs it", tool)
			}
			t.Skipf("%s is missing (test.sh installs it)", tool)
		}
	}

	deb, version := buildDeb(t)
	lintDeb(t, deb)
	rev, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatalf("git rev-parse HEAD: %v", err)
	}
	// Go stamps the commit only from a .git directory: a git worktree's
	// .git file gives an unstamped binary (build.sh warns), CI's clone a
	// stamped one, which the child checks.
	if fi, err := os.Stat(".git"); err != nil || !fi.IsDir() {
		t.Log(".git is not a directory (a git worktree?): not checking the commit in portpanel version")
		rev = nil
	}

	before := hostState(t)
	t.Setenv(envDeb, deb)
	t.Setenv(envRev, strings.TrimSpace(string(rev)))
	sysctltest.InNetns(t) // false here: it re-ran this test in the namespaces, which passed
	if after := hostState(t); !maps.Equal(before, after) {
		for _, k := range slices.Sorted(maps.Keys(after)) {
			if before[k] != after[k] {
				t.Errorf("this host changed: %s was %q, is %q", k, before[k], after[k])
			}
		}
	}
	t.Logf("built, linted, installed, started, removed and purged %s (version %s); this host unchanged", filepath.Base(deb), version)
}

// debVersion is what packaging/build.sh makes of git describe in a
// repository without release tags, and of a tag (1.2.3+4.gHASH).
var debVersion = regexp.MustCompile(`^(0\.0~git\d{14}\.[0-9a-f]{12}|\d[0-9.]*(~[A-Za-z0-9.]+)?(\+\d+\.g[0-9a-f]+)?)(\+dirty)?$`)

// buildDeb runs packaging/build.sh with the version from git and returns
// the package and its version.
func buildDeb(t *testing.T) (deb, version string) {
	t.Helper()
	dir := t.TempDir()
	// A version dpkg would read as having a Debian revision is refused
	// before anything is built.
	if out, err := exec.Command("packaging/build.sh", "1.0-1", dir).CombinedOutput(); err == nil || !strings.Contains(string(out), "not a native Debian version") {
		t.Errorf("build.sh 1.0-1: %v, %s; want it refused as not a native Debian version", err, out)
	}
	cmd := exec.Command("packaging/build.sh", "", dir)
	cmd.Stderr = &strings.Builder{}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("packaging/build.sh: %v\n%s", err, cmd.Stderr)
	}
	deb = strings.TrimSpace(string(out))
	m := regexp.MustCompile(`^portpanel_(.+)_amd64\.deb$`).FindStringSubmatch(filepath.Base(deb))
	if filepath.Dir(deb) != dir || m == nil {
		t.Fatalf("build.sh printed %q, want %s/portpanel_VERSION_amd64.deb", deb, dir)
	}
	if !debVersion.MatchString(m[1]) {
		t.Errorf("version %q is not one build.sh derives from git describe", m[1])
	}
	field, err := exec.Command("dpkg-deb", "--field", deb, "Version").Output()
	if err != nil || strings.TrimSpace(string(field)) != m[1] {
		t.Errorf("dpkg-deb --field Version: %q, %v; want %q as in the file name", field, err, m[1])
	}
	return deb, m[1]
}

// lintDeb fails on any lintian error or warning: packaging/lintian-overrides
// holds the accepted ones, each with its reason (an override that no longer
// matches is a warning too).
func lintDeb(t *testing.T, deb string) {
	t.Helper()
	out, err := exec.Command("lintian", "--fail-on", "error,warning", deb).CombinedOutput()
	var tags []string
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "E: ") || strings.HasPrefix(line, "W: ") {
			tags = append(tags, line)
		}
	}
	if err != nil || len(tags) > 0 {
		t.Errorf("lintian: %v\n%s", err, out)
	}
}

// hostState fingerprints what installing the package would change on this
// host: the account files, dpkg's database, and the package's own paths.
func hostState(t *testing.T) map[string]string {
	t.Helper()
	state := map[string]string{}
	// systemctl and policy-rc.d: the namespace replaces them.
	for _, f := range []string{"/etc/passwd", "/etc/group", "/etc/shadow", "/etc/gshadow", "/var/lib/dpkg/status", "/usr/bin/systemctl", "/usr/sbin/policy-rc.d"} {
		b, err := os.ReadFile(f)
		if err != nil {
			state[f] = "unreadable: " + err.Error()
			continue
		}
		sum := sha256.Sum256(b)
		state[f] = hex.EncodeToString(sum[:])
	}
	info, err := os.ReadDir("/var/lib/dpkg/info")
	if err != nil {
		t.Fatal(err)
	}
	state["entries in /var/lib/dpkg/info"] = strconv.Itoa(len(info))
	for _, p := range []string{"/usr/bin/portpanel", "/lib/systemd/system/portpanel.service", "/etc/default/portpanel",
		"/var/lib/portpanel", "/etc/systemd/system/multi-user.target.wants/portpanel.service", "/etc/systemd/system/portpanel.service",
		"/usr/share/doc/portpanel", "/run/systemd/system"} {
		if fi, err := os.Lstat(p); err == nil {
			state[p] = fi.Mode().String()
		} else {
			state[p] = "absent"
		}
	}
	return state
}
