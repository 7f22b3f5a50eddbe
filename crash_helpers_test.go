package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"portpanel/handlers/openapitest"
	"portpanel/sysctl/sysctltest"
)

// Helpers of TestCrashDuringApply: the fault-injecting binary, the server
// processes it runs, the API calls and the checks of kernel and file. Every
// kernel write here happens inside sysctltest.InNetns.

const (
	crashPassword = "crash test password" // ≥ 12 characters, as user add wants
	// crashWait bounds every wait for a process or for the server to answer.
	crashWait = 20 * time.Second
)

// crashConf is the managed file before any change. It holds only net.ipv4
// keys, which are per network namespace, because the test runs sysctl -p on
// it. It has a range line so that sysctl -p proves the file's value.
const crashConf = "# sysctl.conf of the portpanel crash test.\n" +
	"# Lines other than the port range must survive a change and its undoing.\n" +
	"\n" +
	"net.ipv4.tcp_syncookies = 1\n" +
	"net.ipv4.ip_local_port_range = 32768 60999\n" +
	"# end of file\n"

const (
	crashBefore = "32768 60999" // the kernel default, reset before every subtest
	crashTarget = "20000 40000"
)

var (
	crashKernel    = filepath.Join(sysctltest.ProcSys(), "net", "ipv4", "ip_local_port_range")
	crashRangeLine = regexp.MustCompile(`^\s*net\.ipv4\.ip_local_port_range\s*=\s*(\d+)\s+(\d+)\s*$`)
)

// crashRead reads a file the test checks. Its own helpers, not the e2e
// test's, so this test does not break while those are edited.
func crashRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// crashLog collects a server's output, written by exec's copying goroutine
// and read by the test.
type crashLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *crashLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}
func (l *crashLog) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.buf.String() }

// buildFaultBinary builds portpanel with the faultinject tag, the only build
// in which a fault point can kill the process.
func buildFaultBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "portpanel-fault")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-tags", "faultinject", "-o", bin, ".")
	// The namespace has no network: fail at once on a missing module
	// instead of waiting for a download.
	cmd.Env = append(os.Environ(), "GOPROXY=off", "GOTOOLCHAIN=local")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build -tags faultinject: %v\n%s", err, out)
	}
	return bin
}

// crashEnviron is the test's environment without PORTPANEL_* variables, so
// neither a stray PORTPANEL_FAULT nor the namespace markers reach a child.
func crashEnviron(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PORTPANEL_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// crashEnv is one subtest's world: config tree, database and API token.
type crashEnv struct {
	t                           *testing.T
	bin, root, conf, db, secret string
	runs                        []*crashServer // in start order, for the failure log
	serveArgs                   []string       // more flags of every serve run
}

func newCrashEnv(t *testing.T, bin string) *crashEnv {
	t.Helper()
	root := t.TempDir()
	e := &crashEnv{t: t, bin: bin, root: root, conf: filepath.Join(root, "etc", "sysctl.conf"), db: filepath.Join(t.TempDir(), "pp.db")}
	if err := os.MkdirAll(filepath.Join(root, "etc", "sysctl.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(e.conf, []byte(crashConf), 0o644); err != nil {
		t.Fatal(err)
	}
	// Registered first, so it runs last, once every run has been stopped:
	// on failure, what each process said, in order.
	t.Cleanup(func() {
		if t.Failed() {
			for _, s := range e.runs {
				state := "still running" // ProcessState is only set once done
				select {
				case <-s.done:
					state = s.cmd.ProcessState.String()
				default:
				}
				t.Logf("output of %s (%s):\n%s", s.name, state, s.log)
			}
		}
	})
	// Subtests share the namespace: each starts from the default.
	setCrashKernel(t, crashBefore)
	e.secret = adminToken(t, bin, e.db)
	return e
}

// adminToken makes alice, an admin, in database dsn with the CLI and
// returns an API token of hers.
func adminToken(t *testing.T, bin, dsn string) string {
	t.Helper()
	runCLI(t, bin, crashPassword+"\n", "user", "add", "alice", "--role", "admin", "--password-stdin", "--db", dsn)
	secret := strings.TrimSpace(runCLI(t, bin, "", "token", "create", "--user", "alice", "--db", dsn))
	if secret == "" {
		t.Fatal("token create printed no secret")
	}
	return secret
}

// cli runs a command of the fault binary (no fault armed) and returns its stdout.
func (e *crashEnv) cli(stdin string, args ...string) string {
	e.t.Helper()
	return runCLI(e.t, e.bin, stdin, args...)
}

// runCLI runs a portpanel command of bin to its end, without PORTPANEL_*
// variables, and returns its stdout.
func runCLI(t *testing.T, bin, stdin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), crashWait)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = crashEnviron()
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("portpanel %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, &stdout, &stderr)
	}
	return stdout.String()
}

// crashServer is one run of portpanel serve.
type crashServer struct {
	t      *testing.T
	name   string
	base   string
	secret string
	cmd    *exec.Cmd
	log    *crashLog
	done   chan struct{} // closed when the process has exited
	client *http.Client
}

// start runs portpanel serve, with fault armed unless empty, and waits until
// it answers /healthz (after Recover, which runs before it listens).
func (e *crashEnv) start(name, fault string) *crashServer {
	t := e.t
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s := &crashServer{t: t, name: name, base: "http://" + addr, secret: e.secret, log: &crashLog{}, done: make(chan struct{}),
		// No keep-alive: a request must never go out on a connection of
		// the previous run, nor be retried on a fresh one.
		client: &http.Client{Timeout: 15 * time.Second, Transport: openapitest.Transport(t, &http.Transport{DisableKeepAlives: true})}}
	s.cmd = exec.Command(e.bin, "serve", "--addr", addr, "--db", e.db, "--sysctl-file", e.conf, "--config-root", e.root,
		"--boot-reader", "procps", "--sample-interval", "1h")
	s.cmd.Args = append(s.cmd.Args, e.serveArgs...)
	if fault != "" {
		s.cmd.Env = crashEnviron("PORTPANEL_FAULT=" + fault)
	} else {
		s.cmd.Env = crashEnviron()
	}
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.cmd.Wait(); close(s.done) }()
	e.runs = append(e.runs, s)
	t.Cleanup(func() {
		select {
		case <-s.done:
		default:
			s.cmd.Process.Kill()
			select {
			case <-s.done:
			case <-time.After(crashWait):
				t.Errorf("%s: pid %d did not exit after SIGKILL", name, s.cmd.Process.Pid)
			}
		}
	})
	deadline := time.Now().Add(crashWait)
	for {
		select {
		case <-s.done:
			t.Fatalf("%s exited before answering /healthz: %v", name, s.cmd.ProcessState)
		default:
		}
		if resp, err := s.client.Get(s.base + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer /healthz with 200 within %s", name, crashWait)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// wait waits for the process to exit and returns how it ended; want says
// why it should have.
func (s *crashServer) wait(want string) syscall.WaitStatus {
	s.t.Helper()
	select {
	case <-s.done:
	case <-time.After(crashWait):
		s.t.Fatalf("%s still runs %s after the request, want %s", s.name, crashWait, want)
	}
	return s.cmd.ProcessState.Sys().(syscall.WaitStatus)
}

// wantKilled checks that the fault point killed the process.
func (s *crashServer) wantKilled() {
	s.t.Helper()
	if ws := s.wait("it killed by SIGKILL at the fault point"); !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		s.t.Fatalf("%s ended with %v, want killed by SIGKILL (did the fault point fire?)", s.name, s.cmd.ProcessState)
	}
}

// stop shuts the server down as systemd would and wants a clean exit.
func (s *crashServer) stop() {
	s.t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		s.t.Fatal(err)
	}
	if ws := s.wait("a clean exit after SIGTERM"); ws.ExitStatus() != 0 {
		s.t.Fatalf("%s ended with %v after SIGTERM, want exit 0", s.name, s.cmd.ProcessState)
	}
}

// call sends one API request with the token; err is the transport's (a
// killed server gives EOF or a reset).
func (s *crashServer) call(method, path string, body any) (int, []byte, error) {
	return bearerCall(s.client, s.base, s.secret, method, path, body)
}

// bearerCall sends one API request to base with an API token, body (if
// not nil) as JSON, and returns the answer's status and body.
func bearerCall(client *http.Client, base, secret, method, path string, body any) (int, []byte, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, base+path, r)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+secret)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

func (s *crashServer) get(path string, v any) {
	s.t.Helper()
	code, body, err := s.call(http.MethodGet, path, nil)
	if err != nil || code != http.StatusOK {
		s.t.Fatalf("GET %s: %d %v\n%s", path, code, err, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		s.t.Fatalf("GET %s: %v\n%s", path, err, body)
	}
}
