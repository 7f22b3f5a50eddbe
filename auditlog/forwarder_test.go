package auditlog

import (
	"bufio"
	"context"
	"errors"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"portpanel/db"
	"portpanel/db/dbtest"
	"portpanel/internal/syslogtest"
)

// fast is Options for tests: retries within milliseconds.
var fast = Options{Hostname: "testhost", MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond, Timeout: time.Second}

// listen starts a collector for network ("tcp", "udp" or "unix") and
// returns it with its Target.
func listen(t *testing.T, network string) (*syslogtest.Collector, Target) {
	t.Helper()
	if network == "unix" {
		c := syslogtest.Listen(t, "unixgram")
		return c, Target{Network: "unix", Addr: c.Addr, Facility: 10}
	}
	c := syslogtest.Listen(t, network)
	return c, Target{Network: network, Addr: c.Addr, Facility: 10}
}

func newForwarder(t *testing.T, d *db.DB, target Target) *Forwarder {
	t.Helper()
	f, err := New(t.Context(), d, target, fast)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		f.Close(ctx)
	})
	return f
}

func poll(t *testing.T, f *Forwarder) {
	t.Helper()
	if err := f.Poll(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// recordChange stores an applied change of the range with its audit event.
func recordChange(t *testing.T, d *db.DB, user string) db.Change {
	t.Helper()
	c, _, err := d.RecordChange(t.Context(), db.Change{Status: db.StatusApplied, Low: 40000, High: 50001,
		BeforeLow: 32768, BeforeHigh: 60999, Reason: "more ports", UserID: 1, User: user, File: "/etc/sysctl.conf"},
		db.AuditEvent{User: user, Action: "change.applied", Detail: "32768 60999 → 40000 50001"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestForwarderSendsEachCommittedEventOnce(t *testing.T) {
	for _, network := range []string{"tcp", "udp", "unix"} {
		t.Run(network, func(t *testing.T) {
			d := dbtest.Open(t)
			if _, err := d.AppendAudit(t.Context(), db.AuditEvent{Action: "server.start", Detail: "before the forwarder"}); err != nil {
				t.Fatal(err)
			}
			col, target := listen(t, network)
			f := newForwarder(t, d, target)
			c := recordChange(t, d, "alice")
			if _, err := d.AppendAudit(t.Context(), db.AuditEvent{User: "bob", Action: "login.failed", Detail: "line one\nline two"}); err != nil {
				t.Fatal(err)
			}
			poll(t, f)
			poll(t, f) // nothing new: nothing sent twice

			applied := col.Next(t)
			for _, want := range []string{"<85>1 ", " testhost portpanel ", " change.applied [portpanel@32473 id=\"2\" ",
				`event="change.applied" actor="alice" result="success" change_id="` + strconv.FormatInt(c.ID, 10) + `" before="32768 60999" after="40000 50001" hash="`,
				"] \xEF\xBB\xBF32768 60999 → 40000 50001"} {
				if !strings.Contains(applied, want) {
					t.Errorf("the change's message %q lacks %q", applied, want)
				}
			}
			// A failure is a warning (severity 4), and a multi-line detail
			// stays one message.
			failed := col.Next(t)
			if !strings.HasPrefix(failed, "<84>1 ") || !strings.Contains(failed, `event="login.failed" actor="bob" result="failure" hash="`) ||
				!strings.HasSuffix(failed, "line one\nline two") {
				t.Errorf("the failed sign-in's message: %q", failed)
			}
			col.None(t, 100*time.Millisecond)
			if f.Sent() != 2 || f.Dropped() != 0 {
				t.Errorf("sent %d, dropped %d; want 2 and 0", f.Sent(), f.Dropped())
			}
		})
	}
}

// An event whose transaction rolls back is never sent, even when the
// forwarder reads while the transaction is open; the event committed next
// (with the same id) is.
func TestForwarderNeverSendsARolledBackEvent(t *testing.T) {
	d := dbtest.Open(t)
	col, target := listen(t, "tcp")
	f := newForwarder(t, d, target)
	tx, err := d.SQL().BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(`INSERT INTO audit_events (id, at, user_name, action, detail, change_id, prev_hash, hash)
		VALUES (1, 0, 'mallory', 'change.applied', 'rolled back', NULL, '', 'x')`); err != nil {
		t.Fatal(err)
	}
	poll(t, f)
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	poll(t, f)
	col.None(t, 100*time.Millisecond)

	if _, err := d.AppendAudit(t.Context(), db.AuditEvent{User: "alice", Action: "logout", Detail: "committed"}); err != nil {
		t.Fatal(err)
	}
	poll(t, f)
	if m := col.Next(t); !strings.Contains(m, `id="1" event="logout" actor="alice"`) || strings.Contains(m, "rolled back") {
		t.Errorf("sent %q, want the committed event 1", m)
	}
}

// freePort is a loopback TCP port nothing listens on.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// With the collector gone, recording events takes no longer, the queue
// fills, then drops are counted and reported once per Report.
func TestForwarderDropsWhenTheCollectorIsGone(t *testing.T) {
	d := dbtest.Open(t)
	f := newForwarder(t, d, Target{Network: "tcp", Addr: freePort(t), Facility: 10, Queue: 2})
	start := time.Now()
	for range 10 {
		recordChange(t, d, "alice")
		poll(t, f)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("10 changes and polls took %s with the collector gone", took)
	}
	// The sender holds one message while it retries, the queue two more.
	if got := f.Dropped(); got < 7 || got > 8 || f.Sent() != 0 {
		t.Errorf("dropped %d, sent %d; want 7 or 8 dropped, none sent", got, f.Sent())
	}
	if err := f.Report(); err == nil || !strings.Contains(err.Error(), "audit events were dropped") {
		t.Errorf("Report() = %v, want the drops", err)
	}
	// Later reports name the failure that goes on, not the same drops.
	deadline := time.Now().Add(5 * time.Second)
	err := f.Report()
	for ; err == nil && time.Now().Before(deadline); err = f.Report() {
		time.Sleep(20 * time.Millisecond)
	}
	if err == nil || !strings.Contains(err.Error(), "connection refused") || strings.Contains(err.Error(), "dropped") {
		t.Errorf("Report() = %v, want the refused connection and no drops", err)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	start = time.Now()
	f.Close(ctx)
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("Close took %s with the collector gone", took)
	}
	if f.Dropped() != 10 {
		t.Errorf("after Close: dropped %d, want all 10", f.Dropped())
	}
}

// Messages queued while the collector is down arrive once it is up; a
// connection the collector closed is noticed before a message is lost in it.
func TestForwarderReconnects(t *testing.T) {
	d := dbtest.Open(t)
	addr := freePort(t)
	f := newForwarder(t, d, Target{Network: "tcp", Addr: addr, Facility: 10, Queue: 10})
	for range 3 {
		recordChange(t, d, "alice")
	}
	poll(t, f)
	time.Sleep(100 * time.Millisecond) // a few failed connects
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()

	// The collector reads what comes, and hangs up after 200ms of quiet.
	msgs := make(chan string, 10)
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			r := bufio.NewReader(conn)
			for {
				conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
				m, err := syslogtest.ReadFrame(r)
				if err != nil {
					break
				}
				msgs <- m
			}
			conn.Close()
		}
	}()
	var ids []string
	for len(ids) < 5 {
		if len(ids) == 3 {
			time.Sleep(400 * time.Millisecond) // the collector has hung up
			recordChange(t, d, "bob")          // must not vanish into the closed connection
			recordChange(t, d, "carol")
			poll(t, f)
		}
		select {
		case m := <-msgs:
			ids = append(ids, m[strings.Index(m, `id="`):][:6])
		case <-time.After(5 * time.Second):
			t.Fatalf("got %v, then nothing for 5s", ids)
		}
	}
	if want := []string{`id="1"`, `id="2"`, `id="3"`, `id="4"`, `id="5"`}; strings.Join(ids, " ") != strings.Join(want, " ") {
		t.Errorf("received %v, want %v in order", ids, want)
	}
}

// Close sends what was appended since the last Poll (serve's stop event).
func TestForwarderCloseSendsTheLastEvents(t *testing.T) {
	d := dbtest.Open(t)
	col, target := listen(t, "tcp")
	f, err := New(t.Context(), d, target, fast)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.AppendAudit(t.Context(), db.AuditEvent{Action: "server.stop", Detail: "portpanel stopped"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := f.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if m := col.Next(t); !strings.Contains(m, `event="server.stop" actor=""`) {
		t.Errorf("sent %q, want the stop event", m)
	}
	if f.Sent() != 1 || f.Dropped() != 0 {
		t.Errorf("sent %d, dropped %d; want 1 and 0", f.Sent(), f.Dropped())
	}
}

// A collector that accepts and then stops reading makes a send fail within
// the timeout, once the socket buffers are full, instead of holding the
// sender (and so, through the full queue, every later event) forever.
func TestSendGivesUpOnACollectorThatStopsReading(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			accepted <- c // held open, never read
		}
	}()
	c, err := Target{Network: "tcp", Addr: ln.Addr().String()}.dial(t.Context(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	defer func() {
		select {
		case peer := <-accepted:
			peer.Close()
		default:
		}
	}()
	msg := []byte(strings.Repeat("x", maxMessage))
	failed := make(chan error, 1)
	go func() {
		for {
			if err := c.send(msg, 100*time.Millisecond); err != nil {
				failed <- err
				return
			}
		}
	}()
	select {
	case err := <-failed:
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("send failed with %v, want the write deadline", err)
		}
	case <-time.After(20 * time.Second):
		c.close() // ends the blocked send
		t.Fatal("sends to a collector that does not read neither fail nor return after 20s")
	}
}
