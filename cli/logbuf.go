package cli

import (
	"context"
	"io"
	"sync"
	"time"
)

// lineBuffer holds log lines in memory and writes them out in batches: at
// most every interval, when 32 KiB are waiting, and when run ends. The
// request log writes a line per request; written one by one, under
// slog's lock, those writes were a tenth of an API request's cost under
// load (BENCHMARKS.md). Only the request log goes through it: warnings,
// errors and lifecycle events are written at once, and a crash loses at
// most an interval of request lines, never an audit event (those are in
// the database).
type lineBuffer struct {
	w       io.Writer
	mu      sync.Mutex // guards buf
	buf     []byte
	writeMu sync.Mutex // keeps batches in order
}

const lineBufferMax = 32 << 10

func newLineBuffer(w io.Writer) *lineBuffer { return &lineBuffer{w: w} }

// Write keeps p (slog writes whole lines) for the next batch.
func (b *lineBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	b.buf = append(b.buf, p...)
	full := len(b.buf) >= lineBufferMax
	b.mu.Unlock()
	if full {
		b.Flush()
	}
	return len(p), nil
}

// Flush writes what is waiting. A failed write drops the batch: there is
// nowhere better to report it than the log that failed.
func (b *lineBuffer) Flush() error {
	b.writeMu.Lock()
	defer b.writeMu.Unlock()
	b.mu.Lock()
	out := b.buf
	b.buf = make([]byte, 0, min(cap(out), lineBufferMax))
	b.mu.Unlock()
	if len(out) > 0 {
		b.w.Write(out)
	}
	return nil
}

// run flushes every interval until ctx ends, then once more.
func (b *lineBuffer) run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	defer b.Flush()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			b.Flush()
		}
	}
}
