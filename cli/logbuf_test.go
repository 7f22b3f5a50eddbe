package cli

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncWriter is a bytes.Buffer safe to read while lineBuffer writes.
type syncWriter struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// Lines wait for a flush (by the ticker, by size or at the end) and come
// out whole, each writer's in the order written.
func TestLineBufferWritesEveryLineInOrder(t *testing.T) {
	// The ticker: a line shows after an interval, not before.
	out := &syncWriter{}
	b := newLineBuffer(out)
	ctx, stop := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { b.run(ctx, 10*time.Millisecond); close(done) }()
	b.Write([]byte("ticked\n"))
	deadline := time.Now().Add(5 * time.Second)
	for out.String() != "ticked\n" && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if out.String() != "ticked\n" {
		t.Fatalf("after the interval: %q, want the line", out.String())
	}
	stop()
	<-done

	// No ticker within the test (an hour): what is written comes from
	// the size limit and the last flush at the end only.
	out = &syncWriter{}
	b = newLineBuffer(out)
	ctx, stop = context.WithCancel(t.Context())
	done = make(chan struct{})
	go func() { b.run(ctx, time.Hour); close(done) }()
	b.Write([]byte("first\n"))
	if out.String() != "" {
		t.Errorf("written before any flush: %q", out.String())
	}
	line := strings.Repeat("x", 99) + "\n"
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range lineBufferMax / 100 {
				b.Write([]byte(fmt.Sprintf("%d %05d %s", g, i, line)))
			}
		})
	}
	wg.Wait()
	if out.String() == "" {
		t.Error("nothing written with four times lineBufferMax waiting")
	}
	stop()
	<-done
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if n := 1 + 4*(lineBufferMax/100); len(lines) != n || lines[0] != "first" {
		t.Fatalf("%d lines written starting %q, want %d starting \"first\"", len(lines), lines[0], n)
	}
	last := map[string]string{}
	for _, l := range lines[1:] {
		g, seq := l[:1], l[2:7]
		if seq <= last[g] && last[g] != "" {
			t.Fatalf("writer %s: line %s after %s", g, seq, last[g])
		}
		last[g] = seq
	}
}
