package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"portpanel/agentapi"
)

// counters are what the agents did, for the whole run.
type counters struct {
	polls, reports, reverts  atomic.Int64
	unauthorized, errorCount atomic.Int64
	lastError                atomic.Value // string
}

// count files an error by kind (nil counts nothing).
func (s *sim) count(err error) {
	switch {
	case err == nil:
	case errors.Is(err, context.Canceled):
	case statusOf(err) == http.StatusUnauthorized:
		s.unauthorized.Add(1)
		s.lastError.Store(err.Error())
	default:
		s.errorCount.Add(1)
		s.lastError.Store(err.Error())
	}
}

// latencies collects durations; take empties it.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d)
	l.mu.Unlock()
}

func (l *latencies) take() []time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	d := l.d
	l.d = nil
	slices.Sort(d)
	return d
}

func pct(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, (len(sorted)*p+99)/100-1)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// tracked is a remote change the simulator timed: when it was asked for,
// and when its host's poll answered (the wake-up) and its applied result
// was accepted.
type tracked struct {
	start, woke time.Time
	done        chan time.Duration
	// log is what its agent did meanwhile, shown when it was slow.
	log []string
}

// note adds to a tracked host's log; untracked hosts cost a map lookup.
func (s *sim) note(host, format string, args ...any) {
	s.trackMu.Lock()
	defer s.trackMu.Unlock()
	if t, ok := s.tracked[host]; ok && len(t.log) < 50 {
		t.log = append(t.log, fmt.Sprintf("+%.0fms ", ms(time.Since(t.start)))+fmt.Sprintf(format, args...))
	}
}

// woke notes the first poll answer a tracked host got after its change.
func (s *sim) woke(host string) {
	s.trackMu.Lock()
	defer s.trackMu.Unlock()
	if t, ok := s.tracked[host]; ok && t.woke.IsZero() {
		t.woke = time.Now()
	}
}

// reported records a report: its latency and, for a tracked host, the
// applied result that ends the timing.
func (s *sim) reported(host string, took time.Duration, results []agentapi.Result, err error) {
	s.count(err)
	if err != nil {
		return
	}
	s.reports.Add(1)
	s.reportLat.add(took)
	s.trackMu.Lock()
	defer s.trackMu.Unlock()
	t, ok := s.tracked[host]
	if !ok {
		return
	}
	for _, r := range results {
		if r.State == agentapi.ResultApplied || r.State == agentapi.ResultUnconfirmed || r.State == agentapi.ResultFailed {
			delete(s.tracked, host)
			d := time.Since(t.start)
			if r.State == agentapi.ResultFailed {
				d = -1
			}
			if !t.woke.IsZero() {
				s.wakeLat.add(t.woke.Sub(t.start))
			}
			t.done <- d
			return
		}
	}
}

// track starts timing a change on host.
func (s *sim) track(host string) *tracked {
	t := &tracked{start: time.Now(), done: make(chan time.Duration, 1)}
	s.trackMu.Lock()
	s.tracked[host] = t
	s.trackMu.Unlock()
	return t
}

func (s *sim) untrack(host string) {
	s.trackMu.Lock()
	delete(s.tracked, host)
	s.trackMu.Unlock()
}
