package handlers

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestGateBoundsRequestsInFlight(t *testing.T) {
	var g gate
	var inside, most atomic.Int32
	var wg sync.WaitGroup
	for range 8 * runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			if err := g.enter(context.Background()); err != nil {
				t.Error(err)
				return
			}
			n := inside.Add(1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			time.Sleep(2 * time.Millisecond)
			inside.Add(-1)
			g.leave()
		})
	}
	wg.Wait()
	if m := most.Load(); m < 1 || int(m) > runtime.GOMAXPROCS(0) {
		t.Errorf("%d in flight at most, want 1 to GOMAXPROCS (%d)", m, runtime.GOMAXPROCS(0))
	}

	// A request that gives up while waiting leaves without a place.
	for range runtime.GOMAXPROCS(0) {
		if err := g.enter(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := g.enter(ctx); err == nil {
		t.Error("enter on a full gate returned before its context ended")
	}
}
