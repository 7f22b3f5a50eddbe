package throttle_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"portpanel/handlers/throttle"
	"portpanel/internal/testclock"
)

func newClock() *testclock.Clock { return testclock.New(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)) }

func newLimiter(clk *testclock.Clock, cfg throttle.Config) *throttle.Limiter {
	cfg.Now = clk.Now
	return throttle.New(cfg)
}

// fail makes n attempts that go through (each counts as a failure).
func fail(t *testing.T, l *throttle.Limiter, addr, name string, n int) {
	t.Helper()
	for i := range n {
		if wait := l.Attempt(addr, name); wait != 0 {
			t.Fatalf("attempt %d from %s as %s: wait %v, want none", i+1, addr, name, wait)
		}
	}
}

// failPatiently makes n failures, waiting out on clk any wait before each.
func failPatiently(t *testing.T, l *throttle.Limiter, clk *testclock.Clock, addr, name string, n int) {
	t.Helper()
	for range n {
		if wait := l.Attempt(addr, name); wait > 0 {
			clk.Advance(wait)
			fail(t, l, addr, name, 1)
		}
	}
}

func TestBackoffDoublesAndCaps(t *testing.T) {
	clk := newClock()
	l := newLimiter(clk, throttle.Config{})
	fail(t, l, "192.0.2.1", "admin", 5)
	want := []time.Duration{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900, 900}
	for i, w := range want {
		w *= time.Second
		fail(t, l, "192.0.2.1", "admin", 1)
		if got := l.Attempt("192.0.2.1", "admin"); got != w {
			t.Fatalf("after failure %d: wait %v, want %v", 6+i, got, w)
		}
		clk.Advance(w - time.Millisecond)
		if got := l.Attempt("192.0.2.1", "admin"); got != time.Millisecond {
			t.Fatalf("after failure %d, 1 ms before the end: wait %v, want 1ms (knocking while throttled must not extend the wait)", 6+i, got)
		}
		clk.Advance(time.Millisecond)
	}
}

func TestWaits(t *testing.T) {
	const addr, other = "192.0.2.1", "198.51.100.7"
	tests := []struct {
		name  string
		setup func(t *testing.T, l *throttle.Limiter)
		addr  string
		user  string
		want  time.Duration
	}{
		{"five failures are free", func(t *testing.T, l *throttle.Limiter) { fail(t, l, addr, "admin", 5) }, addr, "admin", 0},
		{"the sixth failure makes the next attempt wait", func(t *testing.T, l *throttle.Limiter) { fail(t, l, addr, "admin", 6) }, addr, "admin", time.Second},
		{"another address is not held back for the same account",
			func(t *testing.T, l *throttle.Limiter) {
				for range 40 {
					l.Attempt(addr, "admin")
				}
			}, other, "admin", 0},
		{"the same address may still try another account",
			func(t *testing.T, l *throttle.Limiter) { fail(t, l, addr, "admin", 6) }, addr, "alice", 0},
		{"spraying twenty names from one address is free",
			func(t *testing.T, l *throttle.Limiter) { spray(t, l, addr, 20) }, addr, "another", 0},
		{"spraying a twenty-first name makes the address wait",
			func(t *testing.T, l *throttle.Limiter) { spray(t, l, addr, 21) }, addr, "another", time.Second},
		{"spraying from one address does not hold back another",
			func(t *testing.T, l *throttle.Limiter) { spray(t, l, addr, 21) }, other, "another", 0},
		{"an IPv6 /64 counts as one address",
			func(t *testing.T, l *throttle.Limiter) { fail(t, l, "2001:db8:1:2::1", "admin", 6) }, "2001:db8:1:2:ffff::9", "admin", time.Second},
		{"another IPv6 /64 is another address",
			func(t *testing.T, l *throttle.Limiter) { fail(t, l, "2001:db8:1:2::1", "admin", 6) }, "2001:db8:1:3::1", "admin", 0},
		{"an IPv4-mapped IPv6 address is the IPv4 address",
			func(t *testing.T, l *throttle.Limiter) { fail(t, l, "::ffff:192.0.2.1", "admin", 6) }, addr, "admin", time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLimiter(newClock(), throttle.Config{})
			tt.setup(t, l)
			if got := l.Attempt(tt.addr, tt.user); got != tt.want {
				t.Errorf("wait %v, want %v", got, tt.want)
			}
		})
	}
}

func spray(t *testing.T, l *throttle.Limiter, addr string, n int) {
	t.Helper()
	for i := range n {
		fail(t, l, addr, fmt.Sprintf("user%d", i), 1)
	}
}

func TestSuccessClearsTheAccountCount(t *testing.T) {
	clk := newClock()
	l := newLimiter(clk, throttle.Config{})
	failPatiently(t, l, clk, "192.0.2.1", "admin", 8)
	failPatiently(t, l, clk, "192.0.2.1", "admin", 1) // the right password this time
	l.Success("192.0.2.1", "admin")
	fail(t, l, "192.0.2.1", "admin", 6)
	if got := l.Attempt("192.0.2.1", "admin"); got != time.Second {
		t.Errorf("after a success and six failures: wait %v, want 1s (the count starts over)", got)
	}
}

// An attacker who owns an account must not wipe their spraying count by
// signing in with it between guesses.
func TestSuccessKeepsTheAddressCount(t *testing.T) {
	clk := newClock()
	l := newLimiter(clk, throttle.Config{})
	spray(t, l, "192.0.2.1", 21)
	clk.Advance(time.Second)
	fail(t, l, "192.0.2.1", "mallory", 1)
	l.Success("192.0.2.1", "mallory")
	if got := l.Attempt("192.0.2.1", "victim"); got != time.Second {
		t.Errorf("wait %v, want 1s: the success took back its own count only", got)
	}
}

// A success from a busy address (an office behind NAT) costs nobody a wait.
func TestSuccessSetsNoWait(t *testing.T) {
	l := newLimiter(newClock(), throttle.Config{})
	spray(t, l, "192.0.2.1", 20)
	fail(t, l, "192.0.2.1", "alice", 1) // counted in advance as the 21st failure
	l.Success("192.0.2.1", "alice")
	if got := l.Attempt("192.0.2.1", "bob"); got != 0 {
		t.Errorf("wait %v after a success, want none", got)
	}
}

func TestIdleCountsStartOver(t *testing.T) {
	clk := newClock()
	l := newLimiter(clk, throttle.Config{})
	failPatiently(t, l, clk, "192.0.2.1", "admin", 8) // the eighth sets a wait of 4 s
	clk.Advance(59 * time.Minute)
	fail(t, l, "192.0.2.1", "admin", 1)
	if got := l.Attempt("192.0.2.1", "admin"); got != 8*time.Second {
		t.Fatalf("after 59 idle minutes: wait %v, want 8s (still counting)", got)
	}
	clk.Advance(time.Hour)
	fail(t, l, "192.0.2.1", "admin", 5)
	if got := l.Attempt("192.0.2.1", "admin"); got != 0 {
		t.Errorf("after an idle hour and five failures: wait %v, want none", got)
	}
}

// Parallel requests must not all pass the check before the first failure is
// counted.
func TestParallelBurstIsCounted(t *testing.T) {
	l := newLimiter(newClock(), throttle.Config{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	through := 0
	for range 100 {
		wg.Go(func() {
			if l.Attempt("192.0.2.1", "admin") == 0 {
				mu.Lock()
				through++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if through != 6 {
		t.Errorf("%d of 100 parallel attempts went through, want 6", through)
	}
}

func TestMemoryIsBounded(t *testing.T) {
	l := newLimiter(newClock(), throttle.Config{})
	for i := range 20_000 { // two keys each: 40,000 keys offered
		l.Attempt(fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255), "admin")
	}
	if n := l.Len(); n != 10_000 {
		t.Errorf("%d keys held, want the default cap of 10,000", n)
	}
}

func TestTheLeastRecentlySeenGoFirst(t *testing.T) {
	clk := newClock()
	l := newLimiter(clk, throttle.Config{MaxKeys: 10})
	fail(t, l, "192.0.2.1", "admin", 6) // 2 keys
	fail(t, l, "192.0.2.2", "admin", 6) // 2 keys
	for i := range 3 {                  // 6 keys: full
		fail(t, l, fmt.Sprintf("10.0.0.%d", i), "x", 1)
	}
	l.Attempt("192.0.2.1", "admin") // seen again: now the most recent
	for i := range 2 {              // 4 more keys push out the two oldest pairs
		fail(t, l, fmt.Sprintf("10.0.1.%d", i), "x", 1)
	}
	if n := l.Len(); n != 10 {
		t.Errorf("%d keys held, want 10", n)
	}
	if got := l.Attempt("192.0.2.1", "admin"); got != time.Second {
		t.Errorf("recently seen client: wait %v, want 1s (kept)", got)
	}
	if got := l.Attempt("192.0.2.2", "admin"); got != 0 {
		t.Errorf("least recently seen client: wait %v, want none (dropped)", got)
	}
}
