package handlers

import (
	"context"
	"runtime"
	"sync"
)

// gate bounds how many requests run a costly step at once: rendering
// what versionCache keeps, such as the history page's parts (a 7-day page
// cost about 2.5 ms of CPU, a 30-day one 4-6 ms, a little under half of it
// queries). Requests beyond the bound wait their turn, which keeps the
// other pages fast when many clients load history at once, and makes a
// burst after a commit render each part about once. The zero gate admits GOMAXPROCS at a time.
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
