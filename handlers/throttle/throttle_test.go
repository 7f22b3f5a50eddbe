package throttle_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"portpanel/db/dbtest"
	"portpanel/db/dbtest/pgtest"
	"portpanel/handlers/throttle"
	"portpanel/internal/testclock"
)

func newClock() *testclock.Clock { return testclock.New(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)) }

func newLimiter(clk *testclock.Clock, cfg throttle.Config) *throttle.Limiter {
	cfg.Now = clk.Now
	return throttle.New(cfg)
}

// An opener returns a limiter on a store of its own.
type opener func(clk *testclock.Clock, cfg throttle.Config) *throttle.Limiter

// TestPolicy runs each test of the policy on each store: the counts in
// memory, and in the database that replicas share (both dialects).
func TestPolicy(t *testing.T) {
	stores := map[string]func(t *testing.T) opener{
		"memory": func(*testing.T) opener { return newLimiter },
		"sqlite": func(t *testing.T) opener {
			return func(clk *testclock.Clock, cfg throttle.Config) *throttle.Limiter {
				cfg.Store = throttle.DBStore{DB: dbtest.Open(t)}
				return newLimiter(clk, cfg)
			}
		},
		"postgres": func(t *testing.T) opener {
			// Skip here, in the store's own test: the opener runs inside
			// subtests, where skipping the parent would panic.
			pgtest.Skip(t)
			return func(clk *testclock.Clock, cfg throttle.Config) *throttle.Limiter {
				cfg.Store = throttle.DBStore{DB: dbtest.OpenPostgres(t)}
				return newLimiter(clk, cfg)
			}
		},
	}
	tests := map[string]func(*testing.T, opener){
		"BackoffDoublesAndCaps":        testBackoffDoublesAndCaps,
		"Waits":                        testWaits,
		"SuccessClearsTheAccountCount": testSuccessClearsTheAccountCount,
		"SuccessKeepsTheAddressCount":  testSuccessKeepsTheAddressCount,
		"SuccessSetsNoWait":            testSuccessSetsNoWait,
		"IdleCountsStartOver":          testIdleCountsStartOver,
		"ParallelBurstIsCounted":       testParallelBurstIsCounted,
	}
	for store, open := range stores {
		for name, test := range tests {
			t.Run(store+"/"+name, func(t *testing.T) { test(t, open(t)) })
		}
	}
}

// attempt is Attempt, failing the test on a store error.
func attempt(t *testing.T, l *throttle.Limiter, addr, name string) time.Duration {
	t.Helper()
	wait, err := l.Attempt(context.Background(), addr, name)
	if err != nil {
		t.Fatal(err)
	}
	return wait
}

func success(t *testing.T, l *throttle.Limiter, addr, name string) {
	t.Helper()
	if err := l.Success(context.Background(), addr, name); err != nil {
		t.Fatal(err)
	}
}

// fail makes n attempts that go through (each counts as a failure).
func fail(t *testing.T, l *throttle.Limiter, addr, name string, n int) {
	t.Helper()
	for i := range n {
		if wait := attempt(t, l, addr, name); wait != 0 {
			t.Fatalf("attempt %d from %s as %s: wait %v, want none", i+1, addr, name, wait)
		}
	}
}

// failPatiently makes n failures, waiting out on clk any wait before each.
func failPatiently(t *testing.T, l *throttle.Limiter, clk *testclock.Clock, addr, name string, n int) {
	t.Helper()
	for range n {
		if wait := attempt(t, l, addr, name); wait > 0 {
			clk.Advance(wait)
			fail(t, l, addr, name, 1)
		}
	}
}

func testBackoffDoublesAndCaps(t *testing.T, newLimiter opener) {
	clk := newClock()
	l := newLimiter(clk, throttle.Config{})
	fail(t, l, "192.0.2.1", "admin", 5)
	want := []time.Duration{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900, 900}
	for i, w := range want {
		w *= time.Second
		fail(t, l, "192.0.2.1", "admin", 1)
		if got := attempt(t, l, "192.0.2.1", "admin"); got != w {
			t.Fatalf("after failure %d: wait %v, want %v", 6+i, got, w)
		}
		clk.Advance(w - time.Millisecond)
		if got := attempt(t, l, "192.0.2.1", "admin"); got != time.Millisecond {
			t.Fatalf("after failure %d, 1 ms before the end: wait %v, want 1ms (knocking while throttled must not extend the wait)", 6+i, got)
		}
		clk.Advance(time.Millisecond)
	}
}

func testWaits(t *testing.T, newLimiter opener) {
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
					attempt(t, l, addr, "admin")
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
			if got := attempt(t, l, tt.addr, tt.user); got != tt.want {
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

func testSuccessClearsTheAccountCount(t *testing.T, newLimiter opener) {
	clk := newClock()
	l := newLimiter(clk, throttle.Config{})
	failPatiently(t, l, clk, "192.0.2.1", "admin", 8)
	failPatiently(t, l, clk, "192.0.2.1", "admin", 1) // the right password this time
	success(t, l, "192.0.2.1", "admin")
	fail(t, l, "192.0.2.1", "admin", 6)
	if got := attempt(t, l, "192.0.2.1", "admin"); got != time.Second {
		t.Errorf("after a success and six failures: wait %v, want 1s (the count starts over)", got)
	}
}

// An attacker who owns an account must not wipe their spraying count by
// signing in with it between guesses.
func testSuccessKeepsTheAddressCount(t *testing.T, newLimiter opener) {
	clk := newClock()
	l := newLimiter(clk, throttle.Config{})
	spray(t, l, "192.0.2.1", 21)
	clk.Advance(time.Second)
	fail(t, l, "192.0.2.1", "mallory", 1)
	success(t, l, "192.0.2.1", "mallory")
	if got := attempt(t, l, "192.0.2.1", "victim"); got != time.Second {
		t.Errorf("wait %v, want 1s: the success took back its own count only", got)
	}
}

// A success from a busy address (an office behind NAT) costs nobody a wait.
func testSuccessSetsNoWait(t *testing.T, newLimiter opener) {
	l := newLimiter(newClock(), throttle.Config{})
	spray(t, l, "192.0.2.1", 20)
	fail(t, l, "192.0.2.1", "alice", 1) // counted in advance as the 21st failure
	success(t, l, "192.0.2.1", "alice")
	if got := attempt(t, l, "192.0.2.1", "bob"); got != 0 {
		t.Errorf("wait %v after a success, want none", got)
	}
}

func testIdleCountsStartOver(t *testing.T, newLimiter opener) {
	clk := newClock()
	l := newLimiter(clk, throttle.Config{})
	failPatiently(t, l, clk, "192.0.2.1", "admin", 8) // the eighth sets a wait of 4 s
	clk.Advance(59 * time.Minute)
	fail(t, l, "192.0.2.1", "admin", 1)
	if got := attempt(t, l, "192.0.2.1", "admin"); got != 8*time.Second {
		t.Fatalf("after 59 idle minutes: wait %v, want 8s (still counting)", got)
	}
	clk.Advance(time.Hour)
	fail(t, l, "192.0.2.1", "admin", 5)
	if got := attempt(t, l, "192.0.2.1", "admin"); got != 0 {
		t.Errorf("after an idle hour and five failures: wait %v, want none", got)
	}
}

// Parallel requests must not all pass the check before the first failure is
// counted.
func testParallelBurstIsCounted(t *testing.T, newLimiter opener) {
	l := newLimiter(newClock(), throttle.Config{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	through := 0
	for range 100 {
		wg.Go(func() {
			wait, err := l.Attempt(context.Background(), "192.0.2.1", "admin")
			if err != nil {
				t.Error(err) // not Fatal: this is not the test's goroutine
			}
			if err == nil && wait == 0 {
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
		attempt(t, l, fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255), "admin")
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
	attempt(t, l, "192.0.2.1", "admin") // seen again: now the most recent
	for i := range 2 {                  // 4 more keys push out the two oldest pairs
		fail(t, l, fmt.Sprintf("10.0.1.%d", i), "x", 1)
	}
	if n := l.Len(); n != 10 {
		t.Errorf("%d keys held, want 10", n)
	}
	if got := attempt(t, l, "192.0.2.1", "admin"); got != time.Second {
		t.Errorf("recently seen client: wait %v, want 1s (kept)", got)
	}
	if got := attempt(t, l, "192.0.2.2", "admin"); got != 0 {
		t.Errorf("least recently seen client: wait %v, want none (dropped)", got)
	}
}
