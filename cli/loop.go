package cli

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"portpanel/db"
)

// A loop is one of serve's background jobs: run once after first, then
// every every, until the context ends. Every job goes through a runner, so
// a failure is logged the same way whichever job it comes from, and the
// lower layers the jobs call only return errors.
type loop struct {
	name         string // what the job does, as the log says it; with once, its lease's name
	first, every time.Duration
	run          func(context.Context) error
	// once makes the job run once per period across the replicas of the
	// control plane sharing one database: a replica runs it only while it
	// holds the job's lease (db.ClaimJob), and the others skip their runs.
	once bool
}

// leaser is what once jobs need of the database.
type leaser interface {
	ClaimJob(context.Context, db.JobClaim) (bool, error)
	ReleaseJob(ctx context.Context, job, holder string) error
}

// defaultBeat is how often, at most, a once job's holder renews its lease:
// a job run every second renews every 5 s, so an idle panel does not
// commit (an fsync on SQLite, and every cached page made stale) each
// second per job. A holder that dies leaves the job for a beat at most;
// one that stops releases it.
const defaultBeat = 5 * time.Second

// runner runs serve's loops. holder names this process to the other
// replicas (host name, process id and a random part, so that a restarted
// process is a new holder).
type runner struct {
	leases leaser
	holder string
	log    *slog.Logger
	now    func() time.Time
	beat   time.Duration // defaultBeat if 0
}

func newRunner(leases leaser, log *slog.Logger) (*runner, error) {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("name this replica: %w", err)
	}
	return &runner{leases: leases, holder: fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b)), log: log, now: time.Now}, nil
}

// runLoops starts loops on a runner without leases: every loop runs in
// this process alone, once jobs included.
func runLoops(ctx context.Context, wg *sync.WaitGroup, log *slog.Logger, loops ...loop) {
	(&runner{log: log, now: time.Now}).start(ctx, wg, loops...)
}

// start starts every loop in wg. A failure is logged with the loop's
// name; one that comes from ctx ending is not a failure.
func (r *runner) start(ctx context.Context, wg *sync.WaitGroup, loops ...loop) {
	for _, l := range loops {
		if !l.once || r.leases == nil {
			wg.Go(func() { l.runUntil(ctx, r.log) })
			continue
		}
		run, release := r.leased(l)
		l.run = run
		wg.Go(func() {
			l.runUntil(ctx, r.log)
			if err := release(); err != nil {
				r.log.Error("background job failed", "job", l.name, "err", err)
			}
		})
	}
}

// leased runs l's job only while this replica holds its lease. The holder
// renews it once a beat (its period, or defaultBeat when that is longer):
// a live holder keeps the job, so its log tells its story; when it stops,
// release lets another replica take the job at its next tick, and when it
// dies, another takes it a beat (and a tenth) after its last renewal.
func (r *runner) leased(l loop) (run func(context.Context) error, release func() error) {
	beat := max(l.every, cmp.Or(r.beat, defaultBeat))
	slack := min(beat/10, time.Minute)
	var held time.Time // until when the lease is ours; only l's goroutine uses it
	run = func(ctx context.Context) error {
		now := r.now()
		if now.After(held.Add(-slack)) {
			mine, err := r.leases.ClaimJob(ctx, db.JobClaim{Job: l.name, Holder: r.holder, Now: now, Every: beat, Slack: slack, Hold: beat})
			if err != nil || !mine {
				held = time.Time{}
				return err
			}
			held = now.Add(beat)
		}
		return l.run(ctx)
	}
	release = func() error {
		if held.IsZero() {
			return nil
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return r.leases.ReleaseJob(ctx, l.name, r.holder)
	}
	return run, release
}

func (l loop) runUntil(ctx context.Context, log *slog.Logger) {
	first := time.NewTimer(l.first)
	defer first.Stop()
	select {
	case <-ctx.Done():
		return
	case <-first.C:
	}
	// A ticker, not a timer reset after each run, keeps the rate: a slow
	// run delays the next one, it does not shift all that follow.
	tick := time.NewTicker(l.every)
	defer tick.Stop()
	for {
		if err := l.run(ctx); err != nil && ctx.Err() == nil {
			log.Error("background job failed", "job", l.name, "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
