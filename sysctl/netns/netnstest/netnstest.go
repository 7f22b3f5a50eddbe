// Package netnstest starts processes in network namespaces of their own
// for tests: each sets its range (and reserved ports) inside its new
// namespace, may hold loopback connections there, and is killed when the
// test ends. The processes are the test binary itself, re-executed: a
// test binary that imports this package answers that call in init,
// before any test runs.
package netnstest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"portpanel/sysctl/sysctltest"
)

const (
	envChild  = "PORTPANEL_NETNS_CHILD"  // the Spec, as JSON, in the child
	envParent = "PORTPANEL_NETNS_PARENT" // the namespace the child must have left
)

// Spec is what a child sets up inside its namespace.
type Spec struct {
	Range    string // written to ip_local_port_range; "" keeps the default
	Reserved string // written to ip_local_reserved_ports; "" keeps none
	// Conns is the number of TCP connections to a listener on
	// 127.0.0.1:ListenPort that the child opens and holds.
	Conns int
}

// ListenPort is the children's listener port: below any range a test
// sets, so the listener holds no port of the range.
const ListenPort = 5001

// Child is a running child.
type Child struct {
	PID   int
	Inode uint64 // its network namespace
	Port  uint16 // ListenPort, when Conns > 0
}

// Start runs a child with spec in a new network namespace and waits
// until it is ready. Without root the test is skipped, unless CI is set,
// where it fails: CI must run these tests.
func Start(t testing.TB, spec Spec) Child {
	t.Helper()
	sysctltest.NeedRoot(t, "to create network namespaces")
	own, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	js, _ := json.Marshal(spec)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envChild+"="+string(js), envParent+"="+own)
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET, Pdeathsig: syscall.SIGKILL}
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start a child in a new network namespace: %v", err)
	}
	t.Cleanup(func() {
		stdin.Close()
		cmd.Process.Kill()
		cmd.Wait()
	})
	line := make(chan string, 1)
	go func() {
		l, _ := bufio.NewReader(stdout).ReadString('\n')
		line <- l
	}()
	var ready string
	select {
	case ready = <-line:
	case <-time.After(10 * time.Second):
		t.Fatal("the child did not get ready in 10 s")
	}
	port, ok := strings.CutPrefix(strings.TrimSpace(ready), "ready ")
	if !ok {
		t.Fatalf("child: %q", ready)
	}
	c := Child{PID: cmd.Process.Pid}
	p, _ := strconv.ParseUint(port, 10, 16)
	c.Port = uint16(p)
	link, err := os.Readlink(filepath.Join("/proc", strconv.Itoa(c.PID), "ns", "net"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fmt.Sscanf(link, "net:[%d]", &c.Inode); err != nil || link == own {
		t.Fatalf("child's namespace %q (own %q): %v", link, own, err)
	}
	return c
}

func init() {
	js := os.Getenv(envChild)
	if js == "" {
		return
	}
	if err := child(js); err != nil {
		fmt.Fprintln(os.Stderr, "netnstest child:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// child sets up the namespace, says "ready PORT" and holds everything
// until its stdin closes.
func child(js string) error {
	var spec Spec
	if err := json.Unmarshal([]byte(js), &spec); err != nil {
		return err
	}
	// Never write a setting unless this is a namespace of our own: not
	// the parent's, and not the initial one (which alone has
	// net.core.netdev_max_backlog).
	own, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		return err
	}
	if _, err := os.Stat("/proc/sys/net/core/netdev_max_backlog"); err == nil || own == os.Getenv(envParent) {
		return fmt.Errorf("refusing to write settings: %s is not a private network namespace", own)
	}
	for file, v := range map[string]string{"ip_local_port_range": spec.Range, "ip_local_reserved_ports": spec.Reserved} {
		if v == "" {
			continue
		}
		if err := os.WriteFile("/proc/sys/net/ipv4/"+file, []byte(v), 0); err != nil {
			return fmt.Errorf("set %s: %w", file, err)
		}
	}
	var port int
	if spec.Conns > 0 {
		if port, err = connect(spec.Conns); err != nil {
			return err
		}
	}
	fmt.Printf("ready %d\n", port)
	io.Copy(io.Discard, os.Stdin)
	return nil
}

// held keeps the child's sockets reachable: the garbage collector would
// close them otherwise.
var held []io.Closer

// connect brings loopback up (a new namespace starts with it down) and
// opens n connections to a listener on it, both ends held open.
func connect(n int) (int, error) {
	lo, err := netlink.LinkByName("lo")
	if err != nil {
		return 0, err
	}
	if err := netlink.LinkSetUp(lo); err != nil {
		return 0, fmt.Errorf("bring lo up: %w", err)
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:"+strconv.Itoa(ListenPort))
	if err != nil {
		return 0, err
	}
	held = append(held, ln)
	for range n {
		c, err := net.Dial("tcp4", ln.Addr().String())
		if err != nil {
			return 0, err
		}
		s, err := ln.Accept()
		if err != nil {
			return 0, err
		}
		held = append(held, c, s)
	}
	return ln.Addr().(*net.TCPAddr).Port, nil
}
