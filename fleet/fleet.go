// Package fleet is the control plane's side of fleet mode: it enrolls
// hosts with one-time tokens, authenticates their agents' signed
// requests (with replay protection kept in the database), holds each
// host's desired state and generation, wakes long polls when it changes,
// records what agents report and computes each host's state from it.
//
// It stores everything through db and speaks agentapi's documents; it
// knows nothing of HTTP routing (handlers maps its errors to statuses)
// and never logs: it returns errors and writes the audit log.
package fleet

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"sync"
	"time"

	"portpanel/agentapi"
	"portpanel/db"
)

// Errors the agent API maps to statuses.
var (
	// ErrUnauthorized refuses an agent request (401): a bad or refused
	// enrollment token, a signature that does not verify, a replayed
	// nonce, a revoked or unknown host. Its wrapped text says why, for
	// the server's log; the agent is told nothing more.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrInvalid is a request that is well signed but makes no sense (422).
	ErrInvalid = errors.New("invalid request")
	// ErrTooMany is a host reporting faster than it may (429).
	ErrTooMany = errors.New("too many reports")
	// ErrNoAnswer is a preview the agent did not answer in time.
	ErrNoAnswer = errors.New("the host did not answer")
)

// Defaults of a Service's settings.
const (
	DefaultPollSeconds = 30
	DefaultEnrollTTL   = time.Hour
	MaxEnrollTTL       = 24 * time.Hour
	// KeyGrace is how long a host's previous key still verifies after a
	// rotation, so requests signed just before it are not refused.
	KeyGrace = 10 * time.Minute
	// PreviewWait bounds how long a preview waits for the agent's answer:
	// one long poll round trip and some.
	PreviewWait = 35 * time.Second
)

// Service is the control plane's fleet logic. Set DB; the rest has
// defaults. Its methods are safe for concurrent use.
type Service struct {
	DB *db.DB
	// Hub wakes long polls; nil means an in-process LocalHub. A
	// deployment of several replicas passes one that also tells the
	// others (LISTEN/NOTIFY).
	Hub Hub
	// Now is the clock (time.Now if nil); Rand the source of tokens and
	// preview ids (crypto/rand if nil).
	Now  func() time.Time
	Rand io.Reader
	// PollSeconds is the poll interval the control plane suggests to
	// agents (DefaultPollSeconds if 0).
	PollSeconds int
	// SampleEvery is how often a host's reported range joins its history
	// (besides every change of it); 30 s if 0, as serve samples locally.
	SampleEvery time.Duration
	// Reports bounds how often one host may report; zero means
	// DefaultReportLimit.
	Reports ReportLimit
	// PollFloor is the least time between two answers to one host's
	// polls (DefaultPollFloor if 0).
	PollFloor time.Duration
	// Results, if set, is told the results of every accepted report,
	// with the host its signature names: serve sets it to the change
	// service's RecordRemoteResults, so a remote change's row follows
	// what its agent reports (fleet cannot import change).
	Results func(ctx context.Context, host string, results []agentapi.Result) error

	once     sync.Once
	refusals refusals
	keys     keyCache
	pacer    pacer
}

func (s *Service) init() {
	s.once.Do(func() {
		if s.Hub == nil {
			s.Hub = NewLocalHub()
		}
		if s.Now == nil {
			s.Now = time.Now
		}
		if s.Rand == nil {
			s.Rand = rand.Reader
		}
		if s.PollSeconds <= 0 {
			s.PollSeconds = DefaultPollSeconds
		}
		if s.SampleEvery <= 0 {
			s.SampleEvery = 30 * time.Second
		}
		if s.PollFloor <= 0 {
			s.PollFloor = DefaultPollFloor
		}
		if s.Reports.Every <= 0 {
			s.Reports = DefaultReportLimit
		}
	})
}

// Poll is the poll interval, in seconds, the control plane suggests.
func (s *Service) Poll() int {
	s.init()
	return s.PollSeconds
}

func (s *Service) now() time.Time {
	s.init()
	return s.Now().UTC()
}
