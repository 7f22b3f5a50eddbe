package auditlog

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Target is where messages go: a syslog collector over TCP, UDP, or the
// local daemon's Unix socket.
type Target struct {
	Network string // "tcp", "udp" or "unix"
	Addr    string // host:port, or the socket's path
	// Facility is the syslog facility of every message (authpriv unless
	// the URL says ?facility=).
	Facility int
	// Queue is how many messages wait in memory while the collector is
	// slow or gone (?queue=); beyond it, new ones are dropped and counted.
	Queue int
}

// DefaultQueue is Target.Queue unless the URL sets it: some minutes of a
// busy panel's events, a few hundred KiB.
const DefaultQueue = 1000

// facilities are the RFC 5424 facility codes a URL may name.
var facilities = map[string]int{
	"auth": 4, "authpriv": 10, "daemon": 3, "user": 1, "audit": 13,
	"local0": 16, "local1": 17, "local2": 18, "local3": 19,
	"local4": 20, "local5": 21, "local6": 22, "local7": 23,
}

// ParseTarget reads --syslog's URL: unix:///dev/log, tcp://host:port or
// udp://host:port (port 514 when left out), with optional ?facility=NAME
// (default authpriv, the facility Debian's rsyslog keeps in the root-only
// auth.log) and ?queue=N.
func ParseTarget(raw string) (Target, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return Target{}, fmt.Errorf("syslog URL %q: %w", raw, err)
	}
	t := Target{Network: u.Scheme, Facility: facilities["authpriv"], Queue: DefaultQueue}
	bad := func(why string) (Target, error) {
		return Target{}, fmt.Errorf("syslog URL %q: %s (use unix:///dev/log, tcp://host:514 or udp://host:514)", raw, why)
	}
	switch {
	case u.User != nil || u.Fragment != "" || u.Opaque != "":
		return bad("only a scheme, an address and ?facility= or ?queue= are allowed")
	case u.Scheme == "unix":
		if u.Host != "" || !strings.HasPrefix(u.Path, "/") {
			return bad("a socket is an absolute path after unix://")
		}
		t.Addr = u.Path
	case u.Scheme == "tcp" || u.Scheme == "udp":
		if u.Hostname() == "" || (u.Path != "" && u.Path != "/") {
			return bad("give a host and a port, nothing after them")
		}
		port := u.Port()
		if port == "" {
			port = "514"
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return bad("the port must be 1 to 65535")
		}
		t.Addr = net.JoinHostPort(u.Hostname(), port)
	default:
		return bad("unknown scheme")
	}
	for k, v := range u.Query() {
		switch {
		case len(v) != 1:
			return bad(k + " is given more than once")
		case k == "facility":
			f, ok := facilities[v[0]]
			if !ok {
				return bad("unknown facility " + v[0])
			}
			t.Facility = f
		case k == "queue":
			n, err := strconv.Atoi(v[0])
			if err != nil || n < 1 || n > 1_000_000 {
				return bad("queue must be 1 to 1000000 messages")
			}
			t.Queue = n
		default:
			return bad("unknown parameter " + k)
		}
	}
	return t, nil
}

func (t Target) String() string {
	if t.Network == "unix" {
		return "unix://" + t.Addr
	}
	return t.Network + "://" + t.Addr
}

// conn sends whole messages over one connection.
type conn struct {
	c net.Conn
	// stream frames each message by octet counting (RFC 6587, 3.4.1:
	// "LEN SP MSG"), so a message may hold line breaks; a datagram socket
	// sends one message per datagram (RFC 5426), unframed.
	stream bool
	buf    []byte
}

// dial connects to t. For a Unix socket it tries a datagram socket first
// (what /dev/log is), then a stream one.
func (t Target) dial(ctx context.Context, timeout time.Duration) (*conn, error) {
	d := net.Dialer{Timeout: timeout}
	switch t.Network {
	case "unix":
		c, err := d.DialContext(ctx, "unixgram", t.Addr)
		if err == nil {
			return &conn{c: c}, nil
		}
		c, err2 := d.DialContext(ctx, "unix", t.Addr)
		if err2 != nil {
			return nil, fmt.Errorf("connect to %s: %w", t, errors.Join(err, err2))
		}
		return &conn{c: c, stream: true}, nil
	default:
		c, err := d.DialContext(ctx, t.Network, t.Addr)
		if err != nil {
			return nil, fmt.Errorf("connect to %s: %w", t, err)
		}
		return &conn{c: c, stream: t.Network == "tcp"}, nil
	}
}

// send writes msg as one frame or datagram within timeout: a collector
// that stops reading fails the write instead of holding the sender.
func (c *conn) send(msg []byte, timeout time.Duration) error {
	out := msg
	if c.stream {
		c.buf = strconv.AppendInt(c.buf[:0], int64(len(msg)), 10)
		c.buf = append(append(c.buf, ' '), msg...)
		out = c.buf
	}
	if err := c.c.SetWriteDeadline(time.Now().Add(timeout)); err != nil {
		return err
	}
	_, err := c.c.Write(out)
	return err
}

func (c *conn) close() { c.c.Close() }

// stale says whether the collector has closed this stream. A collector
// never writes, so anything to read is its end of file or a reset. Checked
// before each send: a write into a connection the peer has closed still
// succeeds once, into the kernel's buffer, and that message would be lost.
func (c *conn) stale() bool {
	sc, ok := c.c.(syscall.Conn)
	if !c.stream || !ok {
		return false
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	closed := false
	raw.Read(func(fd uintptr) bool {
		var b [1]byte
		n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		closed = (err == nil && n == 0) || (err != nil && err != syscall.EAGAIN && err != syscall.EINTR)
		return true // done: never wait for data
	})
	return closed
}
