package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"portpanel/db"
	"portpanel/db/dbtest/pgtest"
	"portpanel/sysctl/sysctltest"
)

// Helpers of TestFleetIntegration: the control plane (two portpanel serve
// replicas on one PostgreSQL database), the test's own handle on that
// database to read the control plane's rows, and the user API. The agents
// and their namespaces are in fleet_hosts_test.go, PostgreSQL's restart in
// fleet_pg_test.go.

const (
	fleetDefault = "32768 60999"    // every new network namespace starts with it
	fleetWait    = 20 * time.Second // bounds a wait for a process or an answer
	// fleetPoll is the poll interval the control plane states to agents
	// (fleet.DefaultPollSeconds: serve has no flag for it): "within one
	// poll interval" in the issue is this long.
	fleetPoll = 30 * time.Second
)

// fleetWorld is one run: the binary, the database, the replicas and the
// hosts.
type fleetWorld struct {
	t        *testing.T
	bin, dir string
	dsn      string
	d        *db.DB // the test's own handle, for the control plane's rows
	secret   string // an admin's API token
	replicas [2]*fleetReplica
	hosts    map[string]*fleetHost
	procs    []*fleetProc // every process started, for the failure log
	// serveArgs are more flags for every replica (--require-approval).
	serveArgs []string
}

// fleetProc is one process the test started, in its own process group so
// that cleanup kills whatever it forked too.
type fleetProc struct {
	name string
	cmd  *exec.Cmd
	log  *crashLog
	done chan struct{}
}

// start runs cmd in a process group of its own and kills the group when
// the whole test ends (not the subtest t: a process outlives the step that
// started it).
func (w *fleetWorld) start(t *testing.T, name string, cmd *exec.Cmd) *fleetProc {
	t.Helper()
	p := &fleetProc{name: name, cmd: cmd, log: &crashLog{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.log, p.log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() { cmd.Wait(); close(p.done) }()
	w.procs = append(w.procs, p)
	w.t.Cleanup(func() { p.kill(w.t) })
	return p
}

// kill sends SIGKILL to p's process group (resuming it first, in case it
// was stopped) and waits for p to exit.
func (p *fleetProc) kill(t *testing.T) {
	select {
	case <-p.done:
		return
	default:
	}
	syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	syscall.Kill(-p.cmd.Process.Pid, syscall.SIGCONT)
	select {
	case <-p.done:
	case <-time.After(fleetWait):
		t.Errorf("%s: pid %d did not exit after SIGKILL", p.name, p.cmd.Process.Pid)
	}
}

func (p *fleetProc) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := syscall.Kill(p.cmd.Process.Pid, sig); err != nil {
		t.Fatalf("%s: kill -%d %d: %v", p.name, sig, p.cmd.Process.Pid, err)
	}
}

func (p *fleetProc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// wait waits for p to exit; want says why it should.
func (p *fleetProc) wait(t *testing.T, want string) *os.ProcessState {
	t.Helper()
	select {
	case <-p.done:
		return p.cmd.ProcessState
	case <-time.After(fleetWait):
		t.Fatalf("%s still runs after %s, want %s\n%s", p.name, fleetWait, want, p.log)
		return nil
	}
}

func newFleetWorld(t *testing.T, bin string) *fleetWorld {
	t.Helper()
	return newFleetWorldOn(t, bin, pgtest.Database(t))
}

// newFleetWorldOn is newFleetWorld on the database dsn (a SQLite file
// serves one replica).
func newFleetWorldOn(t *testing.T, bin, dsn string) *fleetWorld {
	t.Helper()
	w := &fleetWorld{t: t, bin: bin, dir: t.TempDir(), dsn: dsn, hosts: map[string]*fleetHost{}}
	// Registered before any process, so it runs after every kill: what
	// each process said, in start order.
	t.Cleanup(func() {
		if t.Failed() {
			for _, p := range w.procs {
				state := "still running"
				if p.exited() {
					state = p.cmd.ProcessState.String()
				}
				t.Logf("output of %s (%s):\n%s", p.name, state, p.log)
			}
		}
	})
	w.secret = adminToken(t, bin, w.dsn)
	// The CLI migrated the database; the test reads rows through its own
	// handle, as any replica would.
	d, err := db.Open(context.Background(), w.dsn)
	if err != nil {
		t.Fatalf("open %s: %v", w.dsn, err)
	}
	t.Cleanup(func() { d.Close() })
	w.d = d
	return w
}

// fleetReplica is one portpanel serve of the control plane.
type fleetReplica struct {
	name, base, sock string
	// Its own config tree and a stand-in /proc/sys: its local host is
	// not under test.
	root, procSys string
	proc          *fleetProc
	client        *http.Client
	secret        string
}

// startReplica runs replica i (0 or 1) and waits until it answers
// /healthz and accepts agents on its socket. A replica started again
// keeps its socket path, so the agents' --server list stays true.
func (w *fleetWorld) startReplica(t *testing.T, i int) *fleetReplica {
	t.Helper()
	name := fmt.Sprintf("replica-%c", 'a'+i)
	r := w.replicas[i]
	if r == nil {
		r = &fleetReplica{name: name, sock: filepath.Join(w.dir, name+".sock"), root: filepath.Join(w.dir, name), secret: w.secret,
			// The whole test's, not the step's: a replica started again
			// in a later step still reads it.
			procSys: sysctltest.FakeProcSys(w.t),
			client:  &http.Client{Timeout: 2 * fleetWait, Transport: &http.Transport{DisableKeepAlives: true}}}
		if err := os.MkdirAll(filepath.Join(r.root, "etc", "sysctl.d"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(r.root, "etc", "sysctl.conf"), []byte(crashConf), 0o644); err != nil {
			t.Fatal(err)
		}
		w.replicas[i] = r
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	r.base = "http://" + addr
	cmd := exec.Command(w.bin, "serve", "--addr", addr, "--db", w.dsn, "--agent-listen", "unix:"+r.sock,
		"--sysctl-file", filepath.Join(r.root, "etc", "sysctl.conf"), "--config-root", r.root,
		// Its own local host reads a stand-in: only the agents' kernels are under test.
		"--proc-sys", r.procSys, "--boot-reader", "procps")
	cmd.Args = append(cmd.Args, w.serveArgs...)
	cmd.Env = crashEnviron()
	r.proc = w.start(t, name, cmd)
	deadline := time.Now().Add(fleetWait)
	for {
		if r.proc.exited() {
			t.Fatalf("%s exited before it answered: %v\n%s", name, r.proc.cmd.ProcessState, r.proc.log)
		}
		if resp, err := r.client.Get(r.base + "/healthz"); err == nil {
			resp.Body.Close()
			if c, err := net.Dial("unix", r.sock); err == nil && resp.StatusCode == http.StatusOK {
				c.Close()
				return r
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer /healthz and accept agents within %s\n%s", name, fleetWait, r.proc.log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// servers is the agents' --server: the replicas' sockets.
func (w *fleetWorld) servers() string {
	s := "unix://" + w.replicas[0].sock
	if w.replicas[1] != nil {
		s += ",unix://" + w.replicas[1].sock
	}
	return s
}

// call sends one user API request with the admin's token.
func (r *fleetReplica) call(method, path string, body any) (int, []byte, error) {
	return bearerCall(r.client, r.base, r.secret, method, path, body)
}

// must sends a request, wants one of the codes and decodes the answer
// into v (unless nil).
func (r *fleetReplica) must(t *testing.T, method, path string, body, v any, codes ...int) int {
	t.Helper()
	code, b, err := r.call(method, path, body)
	if err != nil {
		t.Fatalf("%s %s on %s: %v", method, path, r.name, err)
	}
	ok := false
	for _, c := range codes {
		ok = ok || c == code
	}
	if !ok {
		t.Fatalf("%s %s on %s answered %d, want %v\n%s", method, path, r.name, code, codes, b)
	}
	if v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("%s %s on %s: %v\n%s", method, path, r.name, err, b)
		}
	}
	return code
}

// host reads host name's row on the control plane.
func (w *fleetWorld) host(t *testing.T, name string) db.Host {
	t.Helper()
	h, err := w.d.HostByName(context.Background(), name)
	if err != nil {
		t.Fatalf("host %s on the control plane: %v", name, err)
	}
	return h
}

// eventually polls cond every 100 ms until it returns "" or within
// passes, then fails with cond's last complaint.
func eventually(t *testing.T, within time.Duration, what string, cond func() string) {
	t.Helper()
	if err := eventuallyErr(within, what, cond); err != nil {
		t.Fatal(err)
	}
}

// eventuallyErr is eventually for goroutines other than the test's,
// which must not stop the test: it returns the failure.
func eventuallyErr(within time.Duration, what string, cond func() string) error {
	deadline := time.Now().Add(within)
	for {
		msg := cond()
		if msg == "" {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: not within %s: %s", what, within, msg)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
