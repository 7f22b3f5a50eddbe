package handlers

import (
	"context"
	"runtime"
	"sync"
)

// gate bounds how many requests run a costly step at once: the history
// page. Requests beyond the bound wait their turn, which keeps the other
// pages fast when many clients load history at once. Measured on a 2-CPU
// machine with the seeded databases (BenchmarkRequestHistory in web, and
// the 200-client mix of bench/run.sh): a 7-day history costs about 3 ms
// of CPU and a 30-day one 4-6 ms, a little under half of it queries;
// without the gate that mix took the other pages' p99 from about 0.1-0.2 s
// to 0.25-0.75 s, /history's own from 0.85 s to 0.4-0.7 s (issue 12). The
// zero gate admits GOMAXPROCS at a time.
type gate struct {
	once sync.Once
	ch   chan struct{}
}

// enter waits for a place, or for ctx to end; leave must follow a nil.
func (g *gate) enter(ctx context.Context) error {
	g.once.Do(func() { g.ch = make(chan struct{}, runtime.GOMAXPROCS(0)) })
	select {
	case g.ch <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (g *gate) leave() { <-g.ch }
