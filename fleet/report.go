package fleet

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"portpanel/agentapi"
	"portpanel/db"
)

// ReportLimit bounds how often one host may report: Every on average,
// Burst at once (a result right after a poll's report).
type ReportLimit struct {
	Every time.Duration
	Burst int
}

// DefaultReportLimit lets an agent report after every poll and every
// result, and stops one that loops.
var DefaultReportLimit = ReportLimit{Every: 2 * time.Second, Burst: 5}

// limiters holds a token bucket per host (golang.org/x/time/rate, the
// Go team's limiter, rather than a hand-made one). Per process: with
// replicas a host gets each one's allowance, which still bounds it.
type limiters struct {
	mu sync.Mutex
	m  map[int64]*rate.Limiter
}

func (s *Service) allowReport(id int64, now time.Time) bool {
	s.limiters.mu.Lock()
	defer s.limiters.mu.Unlock()
	if s.limiters.m == nil {
		s.limiters.m = map[int64]*rate.Limiter{}
	}
	l := s.limiters.m[id]
	if l == nil {
		l = rate.NewLimiter(rate.Every(s.Reports.Every), s.Reports.Burst)
		s.limiters.m[id] = l
	}
	return l.AllowN(now, 1)
}

// maxPollSeconds bounds the poll interval an agent may state, so a host
// cannot stay "not stale" for days by claiming a long interval.
const maxPollSeconds = 3600

// RecordReport stores agent a's report (its own host's: the identity is
// a's signature). A host reporting faster than Reports allows gets
// ErrTooMany. The report's times are the agent's; the control plane
// stamps its own clock as the report's time.
func (s *Service) RecordReport(ctx context.Context, a Agent, rep agentapi.Report) (db.Host, error) {
	now := s.now()
	if !s.allowReport(a.Host.ID, now) {
		return db.Host{}, fmt.Errorf("host %q: %w", a.Host.Name, ErrTooMany)
	}
	if rep.PollSeconds < 1 || rep.PollSeconds > maxPollSeconds {
		return db.Host{}, fmt.Errorf("%w: poll_seconds %d: give 1 to %d", ErrInvalid, rep.PollSeconds, maxPollSeconds)
	}
	observed, err := json.Marshal(rep.Observed)
	if err != nil {
		return db.Host{}, fmt.Errorf("encode observed state of host %q: %w", a.Host.Name, err)
	}
	r := db.HostReport{At: now, Version: clip(rep.Version, 64), PollSeconds: rep.PollSeconds,
		ObserveOnly: rep.ObserveOnly, Observed: observed, SampleEvery: s.SampleEvery}
	for _, res := range rep.Results {
		if res.State != agentapi.ResultUnconfirmed {
			r.Settled = append(r.Settled, res.Generation)
		}
		if r.Result == nil || res.Generation >= r.Result.Generation {
			r.Result = &db.HostResult{Generation: res.Generation, State: clip(res.State, 32),
				Error: clip(res.Error, 2000), At: timeOrNil(res.At), Deadline: timeOrNil(res.Deadline)}
		}
	}
	if o := rep.Observed; o.Runtime.Low > 0 {
		r.Sample = &db.HostSample{Low: o.Runtime.Low, High: o.Runtime.High, ReservedPorts: o.ReservedPorts}
		if o.Usage != nil {
			total := o.Usage.Total
			r.Sample.InUse, r.Sample.Risk = &total, clip(o.Usage.Risk, 16)
		}
	}
	h, err := s.DB.RecordHostReport(ctx, a.Host.ID, r)
	if err != nil || s.Results == nil || len(rep.Results) == 0 {
		return h, err
	}
	// An error makes the agent send the report again; results recorded
	// already are not recorded twice.
	if err := s.Results(ctx, a.Host.Name, rep.Results); err != nil {
		return h, fmt.Errorf("host %q: record the results of its changes: %w", a.Host.Name, err)
	}
	return h, nil
}

func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
