// Package testclock is a clock that tests move by hand, so deadlines,
// back-offs and confirmation windows pass when the test says, without
// sleeping. Pass its Now wherever the code under test takes a
// func() time.Time. Only tests import it.
package testclock

import (
	"sync"
	"time"
)

// Clock stands still until Advance moves it. It is safe for concurrent
// use: the code under test reads it from request goroutines.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// New returns a clock standing at start.
func New(start time.Time) *Clock { return &Clock{now: start} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
