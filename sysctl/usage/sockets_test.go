package usage

import (
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
)

// Raw syscalls rather than package net: the tests need AF_INET6 sockets
// talking to v4-mapped addresses (net refuses "tcp6" to an IPv4 address)
// and must know each socket's local port.

func sockaddr(ap netip.AddrPort, family int) syscall.Sockaddr {
	if family == syscall.AF_INET {
		return &syscall.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}
	}
	return &syscall.SockaddrInet6{Port: int(ap.Port()), Addr: ap.Addr().As16()}
}

func addrPort(sa syscall.Sockaddr) netip.AddrPort {
	switch sa := sa.(type) {
	case *syscall.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(sa.Port))
	case *syscall.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr).Unmap(), uint16(sa.Port))
	}
	return netip.AddrPort{}
}

func family(ap netip.AddrPort) int {
	if ap.Addr().Is4() {
		return syscall.AF_INET
	}
	return syscall.AF_INET6
}

// openSocket creates a socket closed at the end of the test, bound to
// bind (port 0 for an ephemeral port), and returns its local address.
func openSocket(tb testing.TB, typ int, bind netip.AddrPort) (int, netip.AddrPort) {
	tb.Helper()
	fd, err := syscall.Socket(family(bind), typ|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		tb.Fatalf("socket: %v", err)
	}
	tb.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, sockaddr(bind, family(bind))); err != nil {
		tb.Fatalf("bind %s: %v", bind, err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		tb.Fatalf("getsockname: %v", err)
	}
	return fd, addrPort(sa)
}

func listenTCP(tb testing.TB, bind netip.AddrPort) (int, netip.AddrPort) {
	tb.Helper()
	fd, local := openSocket(tb, syscall.SOCK_STREAM, bind)
	if err := syscall.Listen(fd, 4096); err != nil {
		tb.Fatalf("listen %s: %v", bind, err)
	}
	return fd, local
}

// dialTCP connects a new socket of the given family to to; an AF_INET6
// socket reaches an IPv4 address through its v4-mapped form, as a
// dual-stack client does. The caller closes the returned fd.
func dialTCP(fam int, to netip.AddrPort) (int, netip.AddrPort, error) {
	fd, err := syscall.Socket(fam, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, netip.AddrPort{}, err
	}
	if err := syscall.Connect(fd, sockaddr(to, fam)); err != nil {
		syscall.Close(fd)
		return -1, netip.AddrPort{}, err
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		syscall.Close(fd)
		return -1, netip.AddrPort{}, err
	}
	return fd, addrPort(sa), nil
}

// acceptTCP takes one connection off a listener's queue; the caller
// closes it.
func acceptTCP(lfd int) (int, netip.AddrPort, error) {
	fd, sa, err := syscall.Accept4(lfd, syscall.SOCK_CLOEXEC)
	if err != nil {
		return -1, netip.AddrPort{}, err
	}
	return fd, addrPort(sa), nil
}

// envParentNetns holds the network namespace the test binary was started
// in; sysctltest.InNetns sets it, and BenchmarkScan sets it the same way.
const envParentNetns = "PORTPANEL_PARENT_NETNS"

// setupNetns brings loopback up (a new namespace starts with it down)
// and writes namespace-local settings under /proc/sys/net. It refuses to
// run in the machine's own namespace, whatever the caller checked.
func setupNetns(tb testing.TB, settings map[string]string) {
	tb.Helper()
	// The re-executing parent (sysctltest.InNetns, or BenchmarkScan)
	// names the namespace it left; /proc/1 may not be readable.
	own, err := os.Readlink("/proc/self/ns/net")
	parent := os.Getenv(envParentNetns)
	init1, _ := os.Readlink("/proc/1/ns/net")
	if err != nil || parent == "" || own == parent || own == init1 {
		tb.Fatalf("refusing to change settings: not in a private network namespace (own %q, parent %q, %v)", own, parent, err)
	}
	if out, err := exec.Command("ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
		tb.Fatalf("ip link set lo up: %v\n%s", err, out)
	}
	for name, v := range settings {
		if err := os.WriteFile(filepath.Join("/proc/sys/net", name), []byte(v), 0); err != nil {
			tb.Fatalf("set %s: %v", name, err)
		}
	}
}
