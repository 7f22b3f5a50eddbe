package main

import (
	"bufio"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"portpanel/sysctl/sysctltest"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fakeSystemctl stands in for systemctl in the namespace, where the
// maintainer scripts believe systemd runs (/run/systemd/system exists):
// every call is recorded, and none reaches this host's service manager.
// Calls that work on unit files alone (--root, as deb-systemd-helper's
// preset, and is-enabled) go to the real systemctl, on the overlays.
const fakeSystemctl = `#!/bin/sh
echo "$*" >>/run/systemctl.log
case "$*" in
*--root=*) exec /usr/bin/systemctl.real "$@" ;;
*is-enabled*) exec /usr/bin/systemctl.real --root=/ "$@" ;;
esac
exit 0
`

// debInstall runs inside TestDebPackage's private mount and network
// namespaces. It puts overlays over /etc, /usr and /var (upper layers on a
// tmpfs of this namespace) and a tmpfs on /run, then installs deb with
// dpkg, checks what it installed, starts the installed binary, and removes
// and purges the package.
func debInstall(t *testing.T, deb, rev string) {
	scratch := t.TempDir()
	for _, dir := range []string{"/etc", "/usr", "/var", "/run"} {
		if strings.HasPrefix(scratch, dir+"/") {
			t.Fatalf("the temp dir %s is under %s, which the test mounts over; set TMPDIR elsewhere", scratch, dir)
		}
	}
	mount(t, "tmpfs", scratch, "tmpfs", "mode=0700")
	for _, dir := range []string{"/etc", "/usr", "/var"} {
		upper, work := filepath.Join(scratch, "upper", dir), filepath.Join(scratch, "work", dir)
		mkdirs(t, upper, work)
		mount(t, "overlay", dir, "overlay", "lowerdir="+dir+",upperdir="+upper+",workdir="+work)
	}
	mount(t, "tmpfs", "/run", "tmpfs", "mode=0755")
	mkdirs(t, "/run/systemd/system")
	if err := os.Rename("/usr/bin/systemctl", "/usr/bin/systemctl.real"); err != nil {
		t.Fatal(err)
	}
	// Ours, in place of any that denies starts (as in containers): the
	// scripts' start and stop reach the stand-in systemctl.
	for path, script := range map[string]string{"/usr/bin/systemctl": fakeSystemctl, "/usr/sbin/policy-rc.d": "#!/bin/sh\nexit 0\n"} {
		if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}

	out := run(t, "dpkg", "-i", deb)
	t.Logf("dpkg -i:\n%s", out)
	for _, want := range []string{"was started", "journalctl -u portpanel | grep 'setup?token='", "ssh -L 8080:127.0.0.1:8080", "Settings: /etc/default/portpanel"} {
		if !strings.Contains(out, want) {
			t.Errorf("dpkg -i printed no %q (postinst's first-run help):\n%s", want, out)
		}
	}
	wantStatus(t, "installed")
	wantFile(t, "/usr/bin/portpanel", 0o755)
	wantFile(t, "/lib/systemd/system/portpanel.service", 0o644)
	wantFile(t, "/etc/default/portpanel", 0o600)
	wantFile(t, "/usr/share/man/man8/portpanel.8.gz", 0o644)
	wantFile(t, "/usr/share/doc/portpanel/copyright", 0o644)
	wantFile(t, "/usr/share/doc/portpanel/changelog.gz", 0o644)
	wantFile(t, "/var/lib/portpanel", os.ModeDir|0o700)
	if got := readFile(t, "/var/lib/dpkg/info/portpanel.conffiles"); got != "/etc/default/portpanel\n" {
		t.Errorf("conffiles: %q, want only /etc/default/portpanel", got)
	}
	wantAccount(t, true)
	if got, _ := os.Readlink("/etc/systemd/system/multi-user.target.wants/portpanel.service"); got != "/lib/systemd/system/portpanel.service" {
		t.Errorf("the unit is not enabled: multi-user.target.wants/portpanel.service links to %q", got)
	}
	wantSystemctl(t, "daemon-reload", "start portpanel.service")
	if v := run(t, "/usr/bin/portpanel", "version"); rev != "" && !strings.Contains(v, "revision  "+rev+"\n") {
		t.Errorf("portpanel version does not name the commit %s it was built from:\n%s", rev, v)
	}

	verifyInstalledUnit(t)
	serveInstalled(t, scratch)

	// Data for remove to keep and purge to delete: the first admin, made
	// as the postinst says, in the service's database (the CLI's default).
	cmd := exec.Command("/usr/bin/portpanel", "user", "add", "alice", "--role", "admin", "--password-stdin")
	cmd.Stdin = strings.NewReader("package-test-passphrase-42\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("portpanel user add: %v\n%s", err, out)
	}
	edited := readFile(t, "/etc/default/portpanel") + "PORTPANEL_LOG_FORMAT=json\n"
	if err := os.WriteFile("/etc/default/portpanel", []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}

	run(t, "dpkg", "-r", "portpanel")
	wantStatus(t, "config-files")
	for _, gone := range []string{"/usr/bin/portpanel", "/lib/systemd/system/portpanel.service", "/usr/share/man/man8/portpanel.8.gz"} {
		wantAbsent(t, gone)
	}
	if got := readFile(t, "/etc/default/portpanel"); got != edited {
		t.Errorf("dpkg -r changed the conffile /etc/default/portpanel:\n%s", got)
	}
	wantFile(t, "/var/lib/portpanel/portpanel.db", 0)
	wantAccount(t, true)
	wantSystemctl(t, "stop portpanel.service")
	if got, _ := os.Readlink("/etc/systemd/system/portpanel.service"); got != "/dev/null" {
		t.Errorf("after dpkg -r the unit is not masked: /etc/systemd/system/portpanel.service links to %q", got)
	}

	// The range the admins chose outlives the package.
	mkdirs(t, "/etc/sysctl.d")
	if err := os.WriteFile("/etc/sysctl.d/90-portpanel.conf", []byte("net.ipv4.ip_local_port_range = 20000 60999\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out = run(t, "dpkg", "-P", "portpanel")
	if !strings.Contains(out, "kept /etc/sysctl.d/90-portpanel.conf") {
		t.Errorf("dpkg -P did not say it kept the sysctl file:\n%s", out)
	}
	wantFile(t, "/etc/sysctl.d/90-portpanel.conf", 0o644)
	wantStatus(t, "")
	for _, gone := range []string{"/etc/default/portpanel", "/var/lib/portpanel", "/etc/systemd/system/portpanel.service",
		"/etc/systemd/system/multi-user.target.wants/portpanel.service", "/var/lib/dpkg/info/portpanel.list", "/var/lib/dpkg/info/portpanel.postrm"} {
		wantAbsent(t, gone)
	}
	wantAccount(t, false)
}

// verifyInstalledUnit runs systemd-analyze verify on the unit as installed:
// the binary it names exists now, and systemd-analyze reads the unit file
// without a running systemd.
func verifyInstalledUnit(t *testing.T) {
	t.Helper()
	out, err := exec.Command(systemdAnalyze(t), "verify", "--recursive-errors=no", "/lib/systemd/system/portpanel.service").CombinedOutput()
	if err != nil || strings.Contains(string(out), "portpanel") {
		t.Errorf("systemd-analyze verify /lib/systemd/system/portpanel.service: %v\n%s", err, out)
	}
}

// serveInstalled starts the installed binary on a loopback port of this
// network namespace against a temp tree (database, managed file, config
// root, a fake /proc/sys), waits for its setup link, and asks /healthz.
func serveInstalled(t *testing.T, scratch string) {
	t.Helper()
	if out, err := exec.Command("ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("ip link set lo up: %v\n%s", err, out)
	}
	tree := filepath.Join(scratch, "tree")
	mkdirs(t, filepath.Join(tree, "root", "etc", "sysctl.d"))
	cmd := exec.Command("/usr/bin/portpanel", "serve", "--addr", "127.0.0.1:0", "--db", filepath.Join(tree, "data", "portpanel.db"),
		"--sysctl-file", filepath.Join(tree, "root", "etc", "sysctl.d", "90-portpanel.conf"), "--config-root", filepath.Join(tree, "root"),
		"--proc-sys", sysctltest.FakeProcSys(t), "--boot-reader", "procps")
	cmd.Env = []string{"PATH=/usr/bin:/bin"}
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start /usr/bin/portpanel serve: %v", err)
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("portpanel serve after SIGTERM: %v\n%s", err, stderr)
			}
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("portpanel serve did not stop within 20 s of SIGTERM\n%s", stderr)
		}
	}()
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
	}()
	var base string
	select {
	case line := <-lines:
		m := setupLine.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("the installed portpanel serve printed %q first, want the setup link\n%s", line, stderr)
		}
		base = m[1]
	case <-time.After(30 * time.Second):
		t.Fatalf("the installed portpanel serve printed no setup link within 30 s\n%s", stderr)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get(base + "/healthz")
	if err != nil {
		t.Fatalf("GET /healthz: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /healthz of the installed binary: %s, want 200", resp.Status)
	}
}

func mount(t *testing.T, source, target, fstype, data string) {
	t.Helper()
	if err := syscall.Mount(source, target, fstype, 0, data); err != nil {
		t.Fatalf("mount %s on %s (%s): %v", fstype, target, data, err)
	}
	// Lazily: the overlays keep the scratch tmpfs busy until they go.
	t.Cleanup(func() { _ = syscall.Unmount(target, syscall.MNT_DETACH) })
}

func mkdirs(t *testing.T, dirs ...string) {
	t.Helper()
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

// run runs a command with the PATH dpkg expects and returns its output.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "DEBIAN_FRONTEND=noninteractive")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// wantStatus checks dpkg's status of the package: "installed",
// "config-files" (removed), or "" for unknown to dpkg (purged).
func wantStatus(t *testing.T, want string) {
	t.Helper()
	out, err := exec.Command("dpkg-query", "-W", "-f=${db:Status-Status}", "portpanel").Output()
	if got := string(out); err != nil && want != "" || got != want {
		t.Errorf("dpkg status of portpanel: %q (%v), want %q", got, err, want)
	}
}

// wantFile checks that path exists, is root's, and has mode (unless 0).
func wantFile(t *testing.T, path string, mode os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Errorf("%s: %v", path, err)
		return
	}
	if mode != 0 && fi.Mode() != mode {
		t.Errorf("%s: mode %v, want %v", path, fi.Mode(), mode)
	}
	if st := fi.Sys().(*syscall.Stat_t); st.Uid != 0 || st.Gid != 0 {
		t.Errorf("%s: owner %d:%d, want root:root", path, st.Uid, st.Gid)
	}
}

func wantAbsent(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Lstat(path); !os.IsNotExist(err) {
		t.Errorf("%s is still there (%v)", path, err)
	}
}

// wantAccount checks the portpanel system user and group: a system uid, no
// login shell, home /var/lib/portpanel; or that both are gone.
func wantAccount(t *testing.T, exists bool) {
	t.Helper()
	pw, errU := exec.Command("getent", "passwd", "portpanel").Output()
	_, errG := exec.Command("getent", "group", "portpanel").Output()
	if !exists {
		if errU == nil || errG == nil {
			t.Errorf("after purge: getent passwd portpanel: %q (%v), getent group portpanel: %v; want both gone", pw, errU, errG)
		}
		return
	}
	if errU != nil || errG != nil {
		t.Errorf("getent passwd portpanel: %v, getent group portpanel: %v; want both", errU, errG)
		return
	}
	f := strings.Split(strings.TrimSpace(string(pw)), ":")
	if uid, err := strconv.Atoi(f[2]); len(f) != 7 || err != nil || uid >= 1000 || f[5] != "/var/lib/portpanel" || f[6] != "/usr/sbin/nologin" {
		t.Errorf("getent passwd portpanel: %q, want a system uid (< 1000), home /var/lib/portpanel, shell /usr/sbin/nologin", pw)
	}
}

// wantSystemctl checks that the maintainer scripts called systemctl with
// each of calls so far.
func wantSystemctl(t *testing.T, calls ...string) {
	t.Helper()
	log := readFile(t, "/run/systemctl.log")
	for _, c := range calls {
		if !strings.Contains(log, c+"\n") {
			t.Errorf("no systemctl %s by the maintainer scripts; calls:\n%s", c, log)
		}
	}
}
