package testclock_test

import (
	"sync"
	"testing"
	"time"

	"portpanel/internal/testclock"
)

func TestClockMovesOnlyWhenAdvanced(t *testing.T) {
	start := time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC)
	c := testclock.New(start)
	if got := c.Now(); !got.Equal(start) {
		t.Fatalf("Now = %v, want the start %v", got, start)
	}
	c.Advance(90 * time.Second)
	if got, want := c.Now(), start.Add(90*time.Second); !got.Equal(want) {
		t.Errorf("after Advance(90s): Now = %v, want %v", got, want)
	}
}

// Run with -race: the code under test reads the clock from request
// goroutines while the test moves it.
func TestClockIsSafeForConcurrentUse(t *testing.T) {
	start := time.Unix(0, 0).UTC()
	c := testclock.New(start)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(2)
		go func() { defer wg.Done(); c.Advance(time.Second) }()
		go func() { defer wg.Done(); _ = c.Now() }()
	}
	wg.Wait()
	if got, want := c.Now(), start.Add(4*time.Second); !got.Equal(want) {
		t.Errorf("Now = %v, want %v", got, want)
	}
}
