// Package syslogtest is a syslog collector on loopback for tests: it hands
// each message it receives to a channel. It imports nothing of portpanel.
package syslogtest

import (
	"bufio"
	"errors"
	"io"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Collector receives messages on Network ("tcp", "udp" or "unixgram") at
// Addr. Over TCP it reads octet-counted frames (RFC 6587, 3.4.1), else one
// message per datagram.
type Collector struct {
	Network, Addr string
	msgs          chan string
}

// Listen starts a collector, stopped when the test ends.
func Listen(t testing.TB, network string) *Collector {
	t.Helper()
	c := &Collector{Network: network, msgs: make(chan string, 100)}
	if network == "tcp" {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		c.Addr = ln.Addr().String()
		go c.accept(ln)
		return c
	}
	addr := "127.0.0.1:0"
	if network == "unixgram" {
		addr = filepath.Join(t.TempDir(), "log")
	}
	pc, err := net.ListenPacket(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	c.Addr = pc.LocalAddr().String()
	go func() {
		buf := make([]byte, 65536)
		for {
			n, _, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			c.msgs <- string(buf[:n])
		}
	}()
	return c
}

func (c *Collector) accept(ln net.Listener) {
	for {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer conn.Close()
			r := bufio.NewReader(conn)
			for {
				msg, err := ReadFrame(r)
				if err != nil {
					return
				}
				c.msgs <- msg
			}
		}()
	}
}

// ReadFrame reads one octet-counted frame: "LEN SP MSG".
func ReadFrame(r *bufio.Reader) (string, error) {
	n, err := r.ReadString(' ')
	if err != nil {
		return "", err
	}
	size, err := strconv.Atoi(strings.TrimSuffix(n, " "))
	if err != nil || size <= 0 {
		return "", errors.New("bad frame length " + strconv.Quote(n))
	}
	b := make([]byte, size)
	_, err = io.ReadFull(r, b)
	return string(b), err
}

// Next returns the next message, failing the test after 5s.
func (c *Collector) Next(t testing.TB) string {
	t.Helper()
	select {
	case m := <-c.msgs:
		return m
	case <-time.After(5 * time.Second):
		t.Fatal("no syslog message within 5s")
		return ""
	}
}

// None fails the test if a message arrives within d.
func (c *Collector) None(t testing.TB, d time.Duration) {
	t.Helper()
	select {
	case m := <-c.msgs:
		t.Errorf("unexpected syslog message %q", m)
	case <-time.After(d):
	}
}
