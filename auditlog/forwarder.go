// Package auditlog sends portpanel's audit events to a syslog collector
// (--syslog), as RFC 5424 messages with the event in structured data.
//
// It reads the events from the database after they are committed, as a
// tail of the log, rather than being handed them by the code that appends
// them: a reader sees only committed rows, so an event whose transaction
// rolled back is never sent; events appended by any process (the `user`
// and `token` commands run from a shell, crash recovery at start) are
// sent alike; and the write path of a change never touches syslog, not
// even a channel. A bounded in-memory queue sits between that reader and
// the one sender goroutine, so a slow or absent collector costs memory up
// to the queue's size and then drops (counted), never a blocked change.
//
// It imports db only; it logs nothing (Report says what went wrong, for
// serve's loop to log).
package auditlog

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"portpanel/db"
)

// Source is where the audit events are read: *db.DB.
type Source interface {
	// Audit gives the newest events first; New reads the head with it.
	Audit(ctx context.Context, limit int, beforeID int64) ([]db.AuditEvent, error)
	AuditAfter(ctx context.Context, afterID int64, limit int) ([]db.AuditEvent, error)
	Change(ctx context.Context, id int64) (db.Change, error)
}

// Options tune a Forwarder; the zero value is what serve uses.
type Options struct {
	Hostname string // default os.Hostname()
	// MinBackoff and MaxBackoff bound the wait after a failed connect or
	// send, doubling from the one to the other (defaults 500ms and 30s).
	MinBackoff, MaxBackoff time.Duration
	// Timeout bounds one connect and one write (default 5s).
	Timeout time.Duration
}

// maxMessage is the largest message sent, under rsyslog's default
// maxMessageSize (8 KiB) and any UDP path: a change's detail carries the
// file's diff, which is cut to fit.
const maxMessage = 8000

// pollBatch is how many events one read of the log takes.
const pollBatch = 256

// Forwarder reads new audit events and sends them to a Target.
type Forwarder struct {
	src    Source
	target Target
	hdr    header
	opts   Options
	queue  chan []byte

	pollMu sync.Mutex // one reader at a time; guards cursor and closed
	cursor int64      // the last event read
	closed bool

	sent, dropped atomic.Uint64

	mu           sync.Mutex // guards the fields below
	lastErr      error      // the latest failure since the last Report
	reportedDrop uint64

	closing chan struct{}      // Close asks the sender to empty the queue and stop
	ctx     context.Context    // ends the sender's connects and waits at once
	cancel  context.CancelFunc //
	done    chan struct{}      // the sender has stopped
}

// New returns a Forwarder that sends the events appended after now (those
// before are in the database, and were sent by the process that was
// running then, if any) and starts its sender. Poll reads new events;
// Close stops it.
func New(ctx context.Context, src Source, t Target, opts Options) (*Forwarder, error) {
	if opts.Hostname == "" {
		opts.Hostname, _ = os.Hostname()
	}
	opts.MinBackoff = cmp(opts.MinBackoff, 500*time.Millisecond)
	opts.MaxBackoff = cmp(opts.MaxBackoff, 30*time.Second)
	opts.Timeout = cmp(opts.Timeout, 5*time.Second)
	if t.Queue <= 0 {
		t.Queue = DefaultQueue
	}
	head, err := src.Audit(ctx, 1, 0)
	if err != nil {
		return nil, fmt.Errorf("read the audit log's head for syslog: %w", err)
	}
	f := &Forwarder{src: src, target: t, opts: opts, queue: make(chan []byte, t.Queue),
		hdr:     header{hostname: opts.Hostname, appName: "portpanel", procID: strconv.Itoa(os.Getpid())},
		closing: make(chan struct{}), done: make(chan struct{})}
	if len(head) > 0 {
		f.cursor = head[0].ID
	}
	f.ctx, f.cancel = context.WithCancel(context.Background())
	go f.run()
	return f, nil
}

func cmp(v, def time.Duration) time.Duration {
	if v <= 0 {
		return def
	}
	return v
}

// Poll reads the events committed since the last Poll and queues their
// messages; when the queue is full a message is dropped and counted. It
// never waits for the collector.
func (f *Forwarder) Poll(ctx context.Context) error {
	f.pollMu.Lock()
	defer f.pollMu.Unlock()
	if f.closed {
		return nil
	}
	changes := map[int64]*db.Change{}
	for {
		events, err := f.src.AuditAfter(ctx, f.cursor, pollBatch)
		if err != nil {
			return fmt.Errorf("read audit events for syslog: %w", err)
		}
		for _, e := range events {
			var c *db.Change
			if e.ChangeID != nil {
				if c = changes[*e.ChangeID]; c == nil {
					ch, err := f.src.Change(ctx, *e.ChangeID)
					if err != nil {
						return fmt.Errorf("read change %d of audit event %d for syslog: %w", *e.ChangeID, e.ID, err)
					}
					c = &ch
					changes[ch.ID] = c
				}
			}
			select {
			case f.queue <- message(e, c, f.hdr, f.target.Facility).Append(nil, maxMessage):
			default:
				f.dropped.Add(1)
			}
			f.cursor = e.ID
		}
		if len(events) < pollBatch {
			return nil
		}
	}
}

// Cursor is the id of the last event read.
func (f *Forwarder) Cursor() int64 {
	f.pollMu.Lock()
	defer f.pollMu.Unlock()
	return f.cursor
}

// SkipTo makes the next Poll read after event id, if that is further than
// it got: another replica of the control plane has sent those (serve).
func (f *Forwarder) SkipTo(id int64) {
	f.pollMu.Lock()
	defer f.pollMu.Unlock()
	f.cursor = max(f.cursor, id)
}

// run is the sender: it takes messages from the queue and sends each,
// connecting (again) as needed, with a growing wait after each failure.
// A message is dropped only when Close gives up on it.
func (f *Forwarder) run() {
	defer close(f.done)
	var c *conn
	defer func() {
		if c != nil {
			c.close()
		}
	}()
	wait := f.opts.MinBackoff
	for {
		var msg []byte
		select {
		case msg = <-f.queue:
		case <-f.ctx.Done():
			return
		case <-f.closing:
			select {
			case msg = <-f.queue:
			default:
				return // all sent
			}
		}
		for {
			err := error(nil)
			if c != nil && c.stale() {
				c.close()
				c = nil
			}
			if c == nil {
				c, err = f.target.dial(f.ctx, f.opts.Timeout)
			}
			if err == nil {
				if err = c.send(msg, f.opts.Timeout); err != nil {
					err = fmt.Errorf("send to %s: %w", f.target, err)
					c.close()
					c = nil
				}
			}
			if err == nil {
				f.sent.Add(1)
				wait = f.opts.MinBackoff
				break
			}
			f.fail(err)
			select {
			case <-f.ctx.Done():
				f.dropped.Add(1)
				return
			case <-f.closing: // stopping: no retries, the rest is dropped
				f.dropped.Add(1)
				return
			case <-time.After(wait):
			}
			wait = min(2*wait, f.opts.MaxBackoff)
		}
	}
}

func (f *Forwarder) fail(err error) {
	f.mu.Lock()
	f.lastErr = err
	f.mu.Unlock()
}

// Sent and Dropped count messages since New: delivered to the collector
// (as far as a socket can tell), and lost because the queue was full or
// Close gave up on them. Queued is how many wait now.
func (f *Forwarder) Sent() uint64    { return f.sent.Load() }
func (f *Forwarder) Dropped() uint64 { return f.dropped.Load() }
func (f *Forwarder) Queued() int     { return len(f.queue) }

// Target is where f sends.
func (f *Forwarder) Target() Target { return f.target }

// Report returns an error when messages were dropped or a send failed
// since the last Report, else nil. serve calls it on a timer and logs what
// it returns, so a collector that is gone for hours costs a log line per
// interval, not one per event.
func (f *Forwarder) Report() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	dropped := f.dropped.Load()
	n, err := dropped-f.reportedDrop, f.lastErr
	f.reportedDrop, f.lastErr = dropped, nil
	switch {
	case n > 0 && err != nil:
		return fmt.Errorf("%d audit events were dropped, not sent to syslog (queue of %d full): %w", n, f.target.Queue, err)
	case n > 0:
		return fmt.Errorf("%d audit events were dropped, not sent to syslog (queue of %d full)", n, f.target.Queue)
	case err != nil:
		return fmt.Errorf("audit events wait to be sent to syslog (%d queued): %w", f.Queued(), err)
	}
	return nil
}

// Close reads the events appended since the last Poll (serve's stop
// event among them), then waits until the queue is sent, a send fails (no
// retries at stop) or ctx ends, whichever comes first; messages still
// unsent then are dropped.
// A second Close does nothing.
func (f *Forwarder) Close(ctx context.Context) error {
	pollErr := f.Poll(ctx)
	f.pollMu.Lock()
	already := f.closed
	f.closed = true
	f.pollMu.Unlock()
	if already {
		return nil
	}
	close(f.closing)
	select {
	case <-f.done:
	case <-ctx.Done():
		f.cancel()
		<-f.done
	}
	f.cancel()
	f.dropped.Add(uint64(len(f.queue)))
	return pollErr
}
