package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"portpanel/db"
)

// Defaults of a Sender.
const (
	// Timeout bounds one POST, connection and answer included.
	Timeout = 10 * time.Second
	// GiveUp is how long a delivery is retried before it is marked dead.
	GiveUp = 24 * time.Hour
	// batch is how many deliveries one Run sends, parallel is how many at
	// once: a slow endpoint then holds up a few sends, not the queue.
	batch    = 32
	parallel = 4
)

// Retry is the backoff after a failed attempt: First, doubling with each
// further failure up to Max, each delay drawn between half of it and all
// of it (jitter, so endpoints that failed together do not retry together).
type Retry struct{ First, Max time.Duration }

// DefaultRetry reaches the 1 h ceiling after about 9 attempts, so a
// receiver down for a day gets about 30 tries.
var DefaultRetry = Retry{First: 5 * time.Second, Max: time.Hour}

// Delay is the wait after the attempts-th failed attempt (1 for the first).
func (r Retry) Delay(attempts int, rnd func() float64) time.Duration {
	d := r.First
	for i := 1; i < attempts && d < r.Max; i++ {
		d *= 2
	}
	d = min(d, r.Max)
	return d/2 + time.Duration(rnd()*float64(d/2))
}

// Stats count delivery attempts by result since start, for /metrics.
type Stats struct{ delivered, failed, dead atomic.Uint64 }

// Counts returns the attempts by result: delivered, failed (to be
// retried), dead (given up).
func (s *Stats) Counts() map[string]uint64 {
	return map[string]uint64{"delivered": s.delivered.Load(), "failed": s.failed.Load(), "dead": s.dead.Load()}
}

// Sender sends what the outbox holds. Its zero value is not usable: use
// NewSender.
type Sender struct {
	DB *db.DB
	// Policy is what Client dials; handlers check URLs with it.
	Policy Policy
	Client *http.Client
	Now    func() time.Time
	Retry  Retry
	// Rand draws the jitter, in [0, 1).
	Rand  func() float64
	Stats *Stats
	// Fault, if set, is called at "webhook-sending" (claimed, about to
	// POST) and "webhook-sent" (answered, not yet recorded): the crash
	// test's kill points.
	Fault func(point string)
}

// Fault points of a delivery.
const (
	PointSending = "webhook-sending"
	PointSent    = "webhook-sent"
)

// NewSender returns a Sender for d whose client obeys p: it dials only
// addresses p allows, follows no redirect, uses no proxy and gives up
// after Timeout.
func NewSender(d *db.DB, p Policy) *Sender {
	dialer := &net.Dialer{Timeout: Timeout, Control: p.Control}
	tr := &http.Transport{
		Proxy:               nil, // a proxy would dial for us, past Control
		DialContext:         dialer.DialContext,
		TLSHandshakeTimeout: Timeout,
		MaxIdleConnsPerHost: 2,
		IdleConnTimeout:     time.Minute,
		ForceAttemptHTTP2:   true,
	}
	return &Sender{
		DB: d, Policy: p, Now: time.Now, Retry: DefaultRetry, Rand: rand.Float64, Stats: &Stats{},
		Client: &http.Client{Transport: tr, Timeout: Timeout,
			// A redirect is an answer like any non-2xx: followed, it
			// could lead past the address checks to another host.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
	}
}

// Run sends the deliveries due now, records each outcome, and returns
// how many it sent; the error is the database's, never an endpoint's
// (those are recorded per delivery).
func (s *Sender) Run(ctx context.Context) (int, error) {
	list, err := s.DB.ClaimDeliveries(ctx, s.Now(), 2*Timeout, batch)
	if err != nil || len(list) == 0 {
		return 0, err
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	slots := make(chan struct{}, parallel)
	for _, x := range list {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			if err := s.DB.RecordAttempt(ctx, x.ID, s.attempt(ctx, x)); err != nil && !errors.Is(err, db.ErrNotFound) {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return len(list), errors.Join(errs...)
}

// attempt POSTs x once and says what came of it.
func (s *Sender) attempt(ctx context.Context, x db.Delivery) db.Attempt {
	if s.Fault != nil {
		s.Fault(PointSending)
	}
	status, err := s.post(ctx, x)
	if s.Fault != nil {
		s.Fault(PointSent)
	}
	a := db.Attempt{At: s.Now().UTC(), Status: status}
	if err == nil {
		s.Stats.delivered.Add(1)
		a.Delivered = true
		return a
	}
	a.Error = err.Error()
	next := a.At.Add(s.Retry.Delay(x.Attempts+1, s.Rand))
	if next.After(x.CreatedAt.Add(GiveUp)) {
		s.Stats.dead.Add(1)
		a.Error += fmt.Sprintf("; given up after %d attempts over %s", x.Attempts+1, GiveUp)
		return a
	}
	s.Stats.failed.Add(1)
	a.NextAt = &next
	return a
}

// post sends x signed, and returns the answer's status and, unless it was
// a 2xx, why it failed.
func (s *Sender) post(ctx context.Context, x db.Delivery) (int, error) {
	ts := s.Now().Unix()
	sig, err := Sign(x.Secret, x.MsgID, ts, x.Body)
	if err != nil {
		return 0, fmt.Errorf("sign: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, x.URL, bytes.NewReader(x.Body))
	if err != nil {
		return 0, errors.New("the endpoint URL is not valid")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "portpanel-webhook")
	req.Header.Set("webhook-id", x.MsgID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("webhook-signature", sig)
	resp, err := s.Client.Do(req)
	if err != nil {
		// Without the URL net/http puts in front: it may carry a token
		// (chat webhooks do), and the page shows this text.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return 0, fmt.Errorf("no answer: %w", err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // so the connection can be reused
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("answered %s", resp.Status)
	}
	return resp.StatusCode, nil
}
