package cli

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
	"strconv"
	"strings"
	"testing"
	"time"

	"portpanel/db"
	"portpanel/handlers/openapitest"
)

// The client's test harness: a real panel (serve in-process, real SQLite,
// the kernel of the test's private network namespace, a config tree in a
// temp dir), users and tokens made with the admin commands, and the client
// run as the binary would run it.

// updateGolden rewrites the golden files instead of comparing: an
// environment variable, not a flag, so that it reaches the test re-run in
// its network namespace.
var updateGolden = os.Getenv("PORTPANEL_UPDATE_GOLDEN") == "1"

// clientConf is the managed file before any change: comments and another
// key, which a change keeps.
const clientConf = "# sysctl.conf of the client test\n\nnet.ipv4.tcp_syncookies = 1\n"

type clientEnv struct {
	t      *testing.T
	url    string // http://127.0.0.1:PORT
	port   string
	root   string // the config root
	db     string
	tokens map[string]string // user → API token
	log    *servedLog
}

// newClientEnv starts a panel with users alice (operator), bob (approver)
// and vic (viewer), each with an API token, and serve's extra flags. Only inside
// sysctltest.InNetns: serve writes the namespace's kernel. Before serve
// starts, three connections to 127.0.0.1:5432 are opened and held, so the
// usage sample serve takes at start (the only one: --sample-interval 1h)
// always shows the same sockets.
func newClientEnv(t *testing.T, extra ...string) *clientEnv {
	t.Helper()
	// A new network namespace starts with loopback down.
	if out, err := exec.Command("ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("ip link set lo up: %v\n%s", err, out)
	}
	holdConnections(t, "127.0.0.1:5432", 3)
	// No token or server from the developer's shell reaches the client.
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	for _, k := range []string{"PORTPANEL_TOKEN", "PORTPANEL_URL", "PORTPANEL_CA_FILE", "NO_COLOR"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	e := &clientEnv{t: t, root: t.TempDir(), tokens: map[string]string{}}
	e.db = filepath.Join(t.TempDir(), "pp.db")
	conf := filepath.Join(e.root, "etc", "sysctl.conf")
	if err := os.MkdirAll(filepath.Join(e.root, "etc", "sysctl.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(conf, []byte(clientConf), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../sysctl.conf", filepath.Join(e.root, "etc", "sysctl.d", "99-sysctl.conf")); err != nil {
		t.Fatal(err)
	}
	// Straight into the database: the client signs in with tokens only,
	// and hashing a password takes a second under -race.
	withDB(t, e.db, func(d *db.DB) {
		for _, u := range [][2]string{{"alice", "operator"}, {"bob", "approver"}, {"vic", "viewer"}} {
			if _, err := d.CreateUser(context.Background(), u[0], u[1], "no password", nil); err != nil {
				t.Fatal(err)
			}
		}
	})
	for _, u := range []string{"alice", "bob", "vic"} {
		e.tokens[u] = strings.TrimSpace(e.admin("", "token", "create", "--user", u))
	}
	args := append([]string{"--addr", "127.0.0.1:0", "--db", e.db, "--sysctl-file", conf, "--config-root", e.root,
		"--boot-reader", "procps", "--sample-interval", "1h"}, extra...)
	e.log = &servedLog{port: make(chan string, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, args, io.Discard, e.log) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	select {
	case e.port = <-e.log.port:
	case err := <-done:
		done <- err
		t.Fatalf("serve stopped before listening: %v\n%s", err, e.log)
	case <-time.After(30 * time.Second):
		t.Fatalf("no \"portpanel listening\" line after 30s:\n%s", e.log)
	}
	e.url = "http://127.0.0.1:" + e.port
	return e
}

// holdConnections opens n connections to addr, served by a listener of
// its own, and keeps them open until the test ends.
func holdConnections(t *testing.T, addr string, n int) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	for range n {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		s, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close(); s.Close() })
	}
}

// admin runs an admin command on the panel's database and returns stdout.
func (e *clientEnv) admin(stdin string, args ...string) string {
	e.t.Helper()
	var out, errb bytes.Buffer
	if err := Run(context.Background(), append(args, "--db", e.db), strings.NewReader(stdin), &out, &errb); err != nil {
		e.t.Fatalf("portpanel %s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	return out.String()
}

// result is one run of the client.
type result struct {
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return "exit " + strconv.Itoa(r.code) + "\nstdout:\n" + r.stdout + "\nstderr:\n" + r.stderr
}

// as runs the client in-process as user (its token by --token; "" for
// none) against the panel, as Main runs for the binary.
func (e *clientEnv) as(user string, args ...string) result {
	e.t.Helper()
	args = append(args, "--server", e.url)
	if user != "" {
		args = append(args, "--token", e.tokens[user])
	}
	return runMain(args...)
}

func runMain(args ...string) result {
	var out, errb bytes.Buffer
	code := Main(context.Background(), args, strings.NewReader(""), &out, &errb)
	return result{code, out.String(), errb.String()}
}

// api asks the panel directly, as user, through a transport that holds
// every request and answer to handlers/openapi.json, and returns the body.
func (e *clientEnv) api(user, method, path, body string) []byte {
	e.t.Helper()
	req, err := http.NewRequest(method, e.url+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e.tokens[user])
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := (&http.Client{Transport: openapitest.Transport(e.t, nil)}).Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	if res.StatusCode/100 != 2 {
		e.t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, b)
	}
	return b
}

// kernel is the namespace's range as the kernel has it.
func kernelRange(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(strings.Fields(string(b)), " ")
}

// revertIn is how long before its deadline a change was confirmed: it
// depends on how fast the test ran.
var revertIn = regexp.MustCompile(`\d+m\d+s before its automatic revert`)

var stampRE = regexp.MustCompile(`\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [A-Z]{3,5}|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z?`)

// scrub replaces what differs between runs (times, temp dirs, the port)
// with names, for the golden files.
func (e *clientEnv) scrub(s string) string {
	s = strings.ReplaceAll(s, e.root, "$ROOT")
	s = strings.ReplaceAll(s, "127.0.0.1:"+e.port, "127.0.0.1:$PORT")
	s = revertIn.ReplaceAllString(s, "N before its automatic revert")
	// As wide as the time it stands for, so the columns stay aligned.
	return stampRE.ReplaceAllStringFunc(s, func(m string) string { return "TIME" + strings.Repeat(".", len(m)-4) })
}

// golden compares got with testdata/client/name.golden, or rewrites the
// file with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "client", name+".golden")
	if updateGolden {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (PORTPANEL_UPDATE_GOLDEN=1 go test ./cli -run %s writes it)", err, t.Name())
	}
	if got != string(want) {
		t.Errorf("output differs from %s:\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// sameJSON fails unless a and b are the same JSON value.
func sameJSON(t *testing.T, what string, a, b []byte) {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("%s: %v\n%s", what, err, a)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("%s: %v\n%s", what, err, b)
	}
	xa, _ := json.Marshal(x)
	yb, _ := json.Marshal(y)
	if !bytes.Equal(xa, yb) {
		t.Errorf("%s differs from the API's answer:\n%s\nAPI:\n%s", what, a, b)
	}
}
