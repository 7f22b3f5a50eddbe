package main

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

func TestLineBufferWritesEveryLineInOrder(t *testing.T) {
	out := &syncWriter{}
	b := newLineBuffer(out)
	ctx, stop := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { b.run(ctx, 20*time.Millisecond); close(done) }()

	b.Write([]byte("first\n"))
	if out.String() != "" {
		t.Errorf("written before a flush: %q", out.String())
	}
	deadline := time.Now().Add(5 * time.Second)
	for out.String() != "first\n" && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if out.String() != "first\n" {
		t.Fatalf("after the interval: %q, want the line", out.String())
	}

	// More than lineBufferMax at once is written without waiting.
	var want strings.Builder
	want.WriteString("first\n")
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
	stop()
	<-done
	got := out.String()
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	if n := 1 + 4*(lineBufferMax/100); len(lines) != n {
		t.Fatalf("%d lines written, want %d", len(lines), n)
	}
	// Each writer's lines come out in the order it wrote them.
	last := map[string]string{}
	for _, l := range lines[1:] {
		g, seq := l[:1], l[2:7]
		if seq <= last[g] && last[g] != "" {
			t.Fatalf("writer %s: line %s after %s", g, seq, last[g])
		}
		last[g] = seq
	}
}
