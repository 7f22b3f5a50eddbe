package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"portpanel/agentapi"
	"portpanel/db"
)

// ReportLimit bounds how often one host may report: Every on average,
// Burst at once (a result right after a poll's report). The database
// keeps its state in the host's row, so it holds across replicas.
type ReportLimit = db.ReportLimit

// DefaultReportLimit lets an agent report after every poll and every
// result, and stops one that loops.
var DefaultReportLimit = ReportLimit{Every: 2 * time.Second, Burst: 5}

// TooManyError is a report refused for coming faster than the service's
// ReportLimit allows (it is ErrTooMany). RetryAfter is when a report will
// be accepted again: one Every of the limit, a report's worth.
type TooManyError struct {
	Host       string
	RetryAfter time.Duration
}

func (e *TooManyError) Error() string {
	return fmt.Sprintf("host %q: %s: retry after %s", e.Host, ErrTooMany, e.RetryAfter)
}

func (e *TooManyError) Unwrap() error { return ErrTooMany }

// maxPollSeconds bounds the poll interval an agent may state, so a host
// cannot stay "not stale" for days by claiming a long interval.
const maxPollSeconds = 3600

// RecordReport stores agent a's report (its own host's: the identity is
// a's signature). A host reporting faster than Reports allows gets
// ErrTooMany. The report's times are the agent's; the control plane
// stamps its own clock as the report's time.
func (s *Service) RecordReport(ctx context.Context, a Agent, rep agentapi.Report) (db.Host, error) {
	now := s.now()
	if rep.PollSeconds < 1 || rep.PollSeconds > maxPollSeconds {
		return db.Host{}, fmt.Errorf("%w: poll_seconds %d: give 1 to %d", ErrInvalid, rep.PollSeconds, maxPollSeconds)
	}
	observed, err := json.Marshal(rep.Observed)
	if err != nil {
		return db.Host{}, fmt.Errorf("encode observed state of host %q: %w", a.Host.Name, err)
	}
	r := db.HostReport{At: now, Version: clip(rep.Version, 64), PollSeconds: rep.PollSeconds,
		ObserveOnly: rep.ObserveOnly, Observed: observed, SampleEvery: s.SampleEvery, Limit: s.Reports}
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
	if errors.Is(err, db.ErrRateLimited) {
		return db.Host{}, &TooManyError{Host: a.Host.Name, RetryAfter: s.Reports.Every}
	}
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
