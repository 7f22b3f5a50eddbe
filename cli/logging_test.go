package cli

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

// Lines wait for a flush and come out whole, each writer's in the order
// it wrote them, also from a slog handler writing from many goroutines.
func TestBatchWriterWritesWholeLinesOnFlush(t *testing.T) {
	out := &syncBuffer{}
	b := newBatchWriter(out)
	log := slog.New(slog.NewTextHandler(b, nil))
	log.Info("request", "n", -1)
	if out.String() != "" {
		t.Fatalf("written before a flush: %q", out.String())
	}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 500 {
				log.Info("request", "writer", w, "n", i)
			}
		})
	}
	wg.Go(func() {
		for range 50 {
			b.Flush()
		}
	})
	wg.Wait()
	if err := b.Flush(); err != nil {
		t.Fatal(err)
	}
	next := map[string]int{}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 1+8*500 {
		t.Fatalf("%d lines, want %d", len(lines), 1+8*500)
	}
	for _, l := range lines[1:] {
		var w, n int
		if _, err := fmt.Sscanf(l[strings.Index(l, "writer="):], "writer=%d n=%d", &w, &n); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		if key := fmt.Sprint(w); n != next[key] {
			t.Fatalf("writer %d: line %d after %d", w, n, next[key]-1)
		}
		next[fmt.Sprint(w)]++
	}
}

type failOnce struct {
	syncBuffer
	failed bool
}

func (f *failOnce) Write(p []byte) (int, error) {
	if !f.failed {
		f.failed = true
		return 0, errors.New("disk full")
	}
	return f.syncBuffer.Write(p)
}

// A failed write loses its batch, not the log: bufio alone would refuse
// every later line.
func TestBatchWriterWritesAgainAfterAFailure(t *testing.T) {
	out := &failOnce{}
	b := newBatchWriter(out)
	b.Write([]byte("lost\n"))
	if err := b.Flush(); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("Flush = %v, want the write error", err)
	}
	b.Write([]byte("kept\n"))
	if err := b.Flush(); err != nil || out.String() != "kept\n" {
		t.Fatalf("after the failure: %q, %v; want the next line written", out.String(), err)
	}
}
