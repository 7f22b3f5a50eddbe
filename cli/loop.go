package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
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
	// control plane sharing one database: each run takes the job's lease
	// (db.ClaimJob), and a replica that does not get it skips that run.
	once bool
	// hold bounds a once job's run, when that can be longer than every:
	// no other replica starts the job until the run ends or hold passes.
	hold time.Duration
}

// leaser is what once jobs need of the database.
type leaser interface {
	ClaimJob(context.Context, db.JobClaim) (bool, error)
	FinishJob(ctx context.Context, job, holder string, started time.Time) error
}

// runner runs serve's loops. holder names this process to the other
// replicas (host name, process id and a random part, so that a restarted
// process is a new holder).
type runner struct {
	leases leaser
	holder string
	log    *slog.Logger
	now    func() time.Time
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
		if l.once && r.leases != nil {
			l.run = r.leased(l)
		}
		wg.Go(func() { l.runUntil(ctx, r.log) })
	}
}

// leased runs l's job only when this replica gets the run's lease. A
// holder that stays alive keeps the job, so its log tells its story; when
// it stops, another replica takes the job within about a period (the
// slack, a tenth of it at most a minute, absorbs ticks that come early or
// late).
func (r *runner) leased(l loop) func(context.Context) error {
	slack := min(l.every/10, time.Minute)
	hold := max(l.hold, l.every)
	return func(ctx context.Context) error {
		now := r.now()
		mine, err := r.leases.ClaimJob(ctx, db.JobClaim{Job: l.name, Holder: r.holder, Now: now, Every: l.every, Slack: slack, Hold: hold})
		if err != nil || !mine {
			return err
		}
		err = l.run(ctx)
		if hold > l.every {
			// Even when ctx ended during the run: the next replica need
			// not wait for the hold.
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			err = errors.Join(err, r.leases.FinishJob(fctx, l.name, r.holder, now))
		}
		return err
	}
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
