package handlers

import (
	"context"
	"runtime"
	"sync"
)

// gate bounds how many requests run a costly step at once. The history
// page allocates about a megabyte per render; with 200 clients, a dozen
// renders at a time held that much garbage each, which multiplied the
// server's memory (135 MB peak under the mixed load, BENCHMARKS.md) for no
// gain: the CPUs were busy either way. Requests beyond the bound wait their
// turn. It also keeps the other pages fast: a 30-day history still costs
// about 8 ms of CPU (half the queries, half the render), and without the
// gate the 200-client mix took every page's p99 from about 0.2 s to 1-2 s
// (issue 12). The zero gate admits GOMAXPROCS at a time.
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
