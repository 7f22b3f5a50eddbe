package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"portpanel/cli"
	"portpanel/sysctl/sysctltest"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// maxExposure is the highest "Overall exposure level" systemd-analyze
// security may give portpanel.service (its 0-10 scale, shown as "OK" up to
// 3.9 in systemd 252). systemd 252 reports 1.7: what remains is running as
// root, sharing the host's network and users (all three needed to manage the
// host's range) and the address families it listens and reads sockets with.
// 2.0 fails as soon as one real protection is dropped.
const maxExposure = 2.0

// systemdAnalyze returns the path of systemd-analyze, skipping the test where
// it is missing, except in CI, which installs systemd (test.sh).
func systemdAnalyze(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("systemd-analyze")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("systemd-analyze is missing; CI must install systemd (test.sh does)")
		}
		t.Skip("systemd-analyze is missing (install systemd); CI runs this test")
	}
	return path
}

// units are the systemd units portpanel ships: the panel's and the agent's.
var units = []string{"portpanel.service", "portpanel-agent.service"}

// unitForVerify copies unit name to a temp dir with ExecStart
// pointing at this test binary: verify refuses a unit whose binary does not
// exist, and /usr/local/bin/portpanel exists only once installed.
func unitForVerify(t *testing.T, name string) string {
	t.Helper()
	unit, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	execStart := regexp.MustCompile(`(?m)^ExecStart=/usr/local/bin/portpanel `)
	if !execStart.Match(unit) {
		t.Fatal(name + ": no ExecStart=/usr/local/bin/portpanel line (the README's install steps put the binary there)")
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, execStart.ReplaceAll(unit, []byte("ExecStart="+self+" ")), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestSystemdVerify(t *testing.T) {
	analyze := systemdAnalyze(t)
	for _, name := range units {
		path := unitForVerify(t, name)
		// Only this unit: a warning in some unrelated unit on the host must not
		// fail the test.
		out, err := exec.Command(analyze, "verify", "--recursive-errors=no", path).CombinedOutput()
		if err != nil || strings.Contains(string(out), name) {
			t.Errorf("systemd-analyze verify %s: %v\n%s", name, err, out)
		}
	}
}

func TestSystemdSecurityExposure(t *testing.T) {
	analyze := systemdAnalyze(t)
	// --offline (review a unit file that is not loaded) came in systemd 250.
	out, err := exec.Command(analyze, "--version").Output()
	if err != nil {
		t.Fatalf("systemd-analyze --version: %v", err)
	}
	v, _ := strconv.Atoi(strings.Fields(string(out) + " systemd 0")[1])
	if v < 250 {
		t.Skipf("systemd %d has no systemd-analyze security --offline (250 and later do)", v)
	}
	// The units as shipped: the security review does not look at ExecStart.
	for _, name := range units {
		cmd := exec.Command(analyze, "security", "--offline=yes", "--no-pager", name)
		cmd.Env = append(os.Environ(), "SYSTEMD_COLORS=0")
		out, err = cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("systemd-analyze security %s: %v\n%s", name, err, out)
		}
		m := regexp.MustCompile(`Overall exposure level for ` + regexp.QuoteMeta(name) + `: ([0-9.]+)`).FindSubmatch(out)
		if m == nil {
			t.Fatalf("no overall exposure level in:\n%s", out)
		}
		exposure, err := strconv.ParseFloat(string(m[1]), 64)
		if err != nil {
			t.Fatal(err)
		}
		if exposure > maxExposure {
			t.Errorf("exposure %.1f, want at most %.1f: a protection was dropped from %s\n%s", exposure, maxExposure, name, out)
		}
		t.Logf("systemd %d: %s exposure %.1f (at most %.1f)", v, name, exposure, maxExposure)
	}
}

// cliResult runs the portpanel CLI and returns its exit code and output.
func cliResult(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := portpanelCmd(args...)
	if os.Getenv("GORACE") == "" {
		// A -race binary otherwise sleeps a second before a clean exit.
		cmd.Env = append(cmd.Env, "GORACE=atexit_sleep_ms=0")
	}
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatalf("portpanel %s: %v", strings.Join(args, " "), err)
	}
	return code, out.String(), errOut.String()
}

func TestHelpAndUsageExitCodes(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string // substring; "" wants no output
		wantStderr string
	}{
		{name: "--help prints usage on stdout", args: []string{"--help"}, wantStdout: "portpanel serve [flags]"},
		{name: "-h prints usage on stdout", args: []string{"-h"}, wantStdout: "portpanel serve [flags]"},
		{name: "help prints usage on stdout", args: []string{"help"}, wantStdout: "portpanel version"},
		{name: "serve -h lists the server's flags and succeeds", args: []string{"serve", "-h"}, wantStderr: "-log-format"},
		{name: "an unknown command is a usage error", args: []string{"frobnicate"}, wantCode: 2, wantStderr: `unknown command "frobnicate"`},
		{name: "no command is a usage error", args: nil, wantCode: 2, wantStderr: "no command given"},
		{name: "a command that fails exits 1", args: []string{"serve", "--log-format", "xml"}, wantCode: 1, wantStderr: "--log-format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := cliResult(t, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit code %d, want %d\nstdout: %s\nstderr: %s", code, tt.wantCode, stdout, stderr)
			}
			if !strings.Contains(stdout, tt.wantStdout) || (tt.wantStdout == "" && stdout != "") {
				t.Errorf("stdout %q, want it to contain %q", stdout, tt.wantStdout)
			}
			if !strings.Contains(stderr, tt.wantStderr) || (tt.wantStderr == "" && stderr != "") {
				t.Errorf("stderr %q, want it to contain %q", stderr, tt.wantStderr)
			}
			if tt.wantCode == 2 && !strings.Contains(stderr, "usage:") {
				t.Errorf("a usage error must print the usage on stderr; got %q", stderr)
			}
		})
	}
}

func TestVersionCommand(t *testing.T) {
	for _, arg := range []string{"version", "--version"} {
		t.Run(arg, func(t *testing.T) {
			code, stdout, stderr := cliResult(t, arg)
			if code != 0 || stderr != "" {
				t.Fatalf("portpanel %s: exit %d, stderr %q", arg, code, stderr)
			}
			if !strings.HasPrefix(stdout, "portpanel ") || !strings.Contains(stdout, "\ngo        "+runtime.Version()+" ") {
				t.Fatalf("portpanel %s printed %q, want the version and the Go release %s", arg, stdout, runtime.Version())
			}
		})
	}
}

// TestVersionOfBuiltBinary builds portpanel as the README does and checks
// that "portpanel version" names the commit checked out: test binaries carry
// no VCS stamp, so only a real build shows it works.
func TestVersionOfBuiltBinary(t *testing.T) {
	git, err := exec.LookPath("git")
	if err != nil {
		t.Skip("git is missing: go build stamps no commit without it")
	}
	head, err := exec.Command(git, "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skipf("not a git checkout (%v): go build stamps no commit", err)
	}
	status, err := exec.Command(git, "status", "--porcelain").Output()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "portpanel")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	// -buildvcs=true: what a plain go build does in a git checkout, stated
	// so that a GOFLAGS=-buildvcs=false in the environment does not hide it.
	build := exec.CommandContext(ctx, filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-buildvcs=true", "-o", bin, ".")
	build.Env = append(os.Environ(), "GOTOOLCHAIN=local")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatalf("portpanel version: %v", err)
	}
	// go build calls the tree modified when git status --porcelain says
	// anything (untracked files included).
	for _, want := range []string{
		"\nrevision  " + strings.TrimSpace(string(head)) + "\n",
		"\nmodified  " + strconv.FormatBool(len(status) > 0) + "\n",
		"\ntime      ",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("portpanel version printed\n%s\nwant it to contain %q", out, want)
		}
	}
}

// lineLog collects what serve writes to stderr and reports the listen
// address once the "portpanel listening" line has been written.
type lineLog struct {
	mu        sync.Mutex
	buf       bytes.Buffer
	listening chan string
	once      sync.Once
}

var listenAddr = regexp.MustCompile(`portpanel listening.*?addr\W+(127\.0\.0\.1:[0-9]+)`)

func (l *lineLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if m := listenAddr.FindSubmatch(p); m != nil {
		l.once.Do(func() { l.listening <- string(m[1]) })
	}
	return l.buf.Write(p)
}

func (l *lineLog) lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Split(strings.TrimRight(l.buf.String(), "\n"), "\n")
}

// serveLog runs serve on a temp database and a fake /proc/sys with extra
// flags, makes one request so the request log writes a line too, stops it
// with the context as SIGTERM would, and returns its stderr lines.
func serveLog(t *testing.T, flags ...string) []string {
	t.Helper()
	dir := t.TempDir()
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--db", filepath.Join(dir, "pp.db"),
		"--proc-sys", sysctltest.FakeProcSys(t), "--config-root", dir, "--sysctl-file", filepath.Join(dir, "etc", "sysctl.d", "90-portpanel.conf"),
		"--boot-reader", "procps"}, flags...)
	stderr := &lineLog{listening: make(chan string, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- cli.Run(ctx, args, strings.NewReader(""), &bytes.Buffer{}, stderr) }()
	select {
	case addr := <-stderr.listening:
		resp, err := http.Get("http://" + addr + "/healthz")
		if err != nil {
			t.Fatalf("GET /healthz: %v", err)
		}
		resp.Body.Close()
	case err := <-done:
		t.Fatalf("serve stopped before listening: %v\n%s", err, strings.Join(stderr.lines(), "\n"))
	case <-time.After(30 * time.Second):
		t.Fatalf("no \"portpanel listening\" line after 30s:\n%s", strings.Join(stderr.lines(), "\n"))
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
	return stderr.lines()
}

func TestLogFormat(t *testing.T) {
	tests := []struct {
		name  string
		flags []string
		env   string // PORTPANEL_LOG_FORMAT
		json  bool
	}{
		{name: "default is text", json: false},
		{name: "--log-format text", flags: []string{"--log-format", "text"}, json: false},
		{name: "--log-format json makes every line JSON", flags: []string{"--log-format", "json"}, json: true},
		{name: "PORTPANEL_LOG_FORMAT=json", env: "json", json: true},
		{name: "the flag wins over the environment", flags: []string{"--log-format", "text"}, env: "json", json: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("PORTPANEL_LOG_FORMAT", tt.env)
			if tt.env == "" {
				os.Unsetenv("PORTPANEL_LOG_FORMAT") // t.Setenv restores it afterwards
			}
			lines := serveLog(t, tt.flags...)
			var sawListening, sawRequest bool
			for _, line := range lines {
				var rec map[string]any
				isJSON := json.Unmarshal([]byte(line), &rec) == nil
				switch {
				case tt.json && !isJSON:
					t.Fatalf("not a JSON line: %q\nall lines:\n%s", line, strings.Join(lines, "\n"))
				case !tt.json && (isJSON || !strings.HasPrefix(line, "time=")):
					t.Fatalf("not a text line: %q", line)
				case tt.json && (rec["time"] == nil || rec["level"] == nil || rec["msg"] == nil):
					t.Fatalf("JSON line without time, level and msg: %q", line)
				}
				sawListening = sawListening || strings.Contains(line, "portpanel listening")
				sawRequest = sawRequest || strings.Contains(line, "/healthz")
			}
			if !sawListening || !sawRequest {
				t.Fatalf("want the listening line and the /healthz request line among:\n%s", strings.Join(lines, "\n"))
			}
		})
	}
}

func TestLogFormatInvalid(t *testing.T) {
	for _, format := range []string{"xml", "JSON", ""} {
		err := cli.Run(context.Background(), []string{"serve", "--log-format", format, "--db", filepath.Join(t.TempDir(), "pp.db")},
			strings.NewReader(""), &bytes.Buffer{}, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), "--log-format") {
			t.Errorf("--log-format %q: err %v, want an error naming --log-format", format, err)
		}
	}
}
