package cli

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// A loop is one of serve's background jobs: run once after first, then
// every every, until the context ends. Every job goes through runLoops, so
// a failure is logged the same way whichever job it comes from, and the
// lower layers the jobs call only return errors.
type loop struct {
	name         string // what the job does, as the log says it
	first, every time.Duration
	run          func(context.Context) error
}

// runLoops starts every loop in wg. A failure is logged with the loop's
// name; one that comes from ctx ending is not a failure.
func runLoops(ctx context.Context, wg *sync.WaitGroup, log *slog.Logger, loops ...loop) {
	for _, l := range loops {
		wg.Go(func() { l.runUntil(ctx, log) })
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
