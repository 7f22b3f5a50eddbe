package handlers

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"portpanel/db"
	"portpanel/db/dbtest"
	"portpanel/views"
)

// A part is rendered again after any commit and in another time bucket,
// and only then.
func TestVersionCacheRendersAgainOnlyAfterACommitOrInAnotherBucket(t *testing.T) {
	d := dbtest.Open(t)
	var rc versionCache[string, views.Prerendered]
	var g gate
	renders := 0
	get := func(key string, bucket int64) {
		t.Helper()
		if _, err := rc.get(context.Background(), d, &g, key, bucket, func(ctx context.Context) (views.Prerendered, error) {
			renders++
			return views.Prerendered{}, nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		name    string
		do      func()
		renders int
	}{
		{"first", func() { get("a", 1) }, 1},
		{"again", func() { get("a", 1) }, 1},
		{"another key", func() { get("b", 1) }, 2},
		{"the first key again", func() { get("a", 1) }, 2},
		{"another bucket", func() { get("a", 2) }, 3},
		{"after a commit", func() {
			if _, err := d.InsertSample(context.Background(), db.Sample{At: time.Now(), Low: 1, High: 2, Source: db.SourceSample}); err != nil {
				t.Fatal(err)
			}
			get("a", 2)
		}, 4},
		{"again after it", func() { get("a", 2) }, 4},
	}
	for _, s := range steps {
		s.do()
		if renders != s.renders {
			t.Fatalf("%s: %d renders, want %d", s.name, renders, s.renders)
		}
	}
}

// A burst of requests that find nothing kept renders the part once per
// place of the gate, not once per request.
func TestVersionCacheRendersABurstOnceAPlace(t *testing.T) {
	d := dbtest.Open(t)
	var rc versionCache[string, views.Prerendered]
	var g gate
	var renders atomic.Int32
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			_, err := rc.get(context.Background(), d, &g, "a", 1, func(ctx context.Context) (views.Prerendered, error) {
				renders.Add(1)
				time.Sleep(20 * time.Millisecond)
				return views.Prerendered{}, nil
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n, most := renders.Load(), int32(runtime.GOMAXPROCS(0)); n > most {
		t.Errorf("50 requests at once rendered %d times, want at most %d (GOMAXPROCS)", n, most)
	}
}
