package cli

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// syncBuffer is a log destination the loops and the test share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string { b.mu.Lock(); defer b.mu.Unlock(); return b.buf.String() }

func TestLoopRunsFirstAfterItsOwnDelay(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	ran := make(chan time.Time, 10)
	start := time.Now()
	runLoops(ctx, &wg, slog.New(slog.DiscardHandler),
		loop{name: "soon", first: 20 * time.Millisecond, every: time.Hour, run: func(context.Context) error { ran <- time.Now(); return nil }})
	select {
	case at := <-ran:
		if at.Sub(start) < 20*time.Millisecond {
			t.Errorf("first run after %v, before its delay", at.Sub(start))
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no run within 10 s: the loop waited for its interval, not its first delay")
	}
	cancel()
	wg.Wait()
	if len(ran) != 0 {
		t.Errorf("%d more runs, want none before an hour has passed", len(ran))
	}
}

func TestLoopRepeatsAndLogsFailuresWithItsName(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var log syncBuffer
	var runs atomic.Int32
	runLoops(ctx, &wg, slog.New(slog.NewTextHandler(&log, nil)),
		loop{name: "flaky job", first: 0, every: 5 * time.Millisecond, run: func(context.Context) error {
			if runs.Add(1)%2 == 0 {
				return errors.New("disk full")
			}
			return nil
		}})
	for deadline := time.Now().Add(10 * time.Second); runs.Load() < 4; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d runs in 10 s, want 4", runs.Load())
		}
	}
	cancel()
	wg.Wait()
	lines := strings.Split(strings.TrimSpace(log.String()), "\n")
	if n := int(runs.Load()) / 2; len(lines) != n {
		t.Fatalf("%d log lines for %d failures:\n%s", len(lines), n, log.String())
	}
	for _, l := range lines {
		if !strings.Contains(l, "level=ERROR") || !strings.Contains(l, `job="flaky job"`) || !strings.Contains(l, `err="disk full"`) {
			t.Errorf("log line %q does not name the job and its error", l)
		}
	}
}

// A job cut short by shutdown has not failed: nothing is logged.
func TestLoopStopsWithItsContextWithoutLogging(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var log syncBuffer
	started := make(chan struct{})
	runLoops(ctx, &wg, slog.New(slog.NewTextHandler(&log, nil)),
		loop{name: "long job", first: 0, every: time.Hour, run: func(ctx context.Context) error {
			close(started)
			<-ctx.Done()
			return ctx.Err()
		}})
	<-started
	cancel()
	wg.Wait()
	if log.String() != "" {
		t.Errorf("logged %q for a job stopped by shutdown", log.String())
	}
}
