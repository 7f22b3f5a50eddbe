package fleet

import (
	"context"
	"sync"
	"time"
)

// DefaultPollFloor is the least time between two answers to one host's
// long polls (Service.PollFloor): an agent polling with wait=0 in a loop,
// or with an old generation so each answer is "news", gets one answer a
// second, not as many as the machine can serve.
const DefaultPollFloor = time.Second

// pacer spaces each host's poll answers by a floor. It is in memory, per
// replica: a host alternating N replicas gets N answers per floor at
// most, each still a signed request spending a nonce. Keeping the
// schedule in the database would make it exact across replicas, at the
// price of a write per poll (333 a second at 10,000 hosts) for every
// host, to tighten a bound on misbehaving ones only.
type pacer struct {
	mu      sync.Mutex
	next    map[int64]time.Time // when the host's next answer may start
	sweepAt int
}

// wait reserves host id's next slot, floor after its previous one, and
// waits for it (or ctx).
func (p *pacer) wait(ctx context.Context, id int64, floor time.Duration) error {
	now := time.Now()
	p.mu.Lock()
	if p.next == nil {
		p.next, p.sweepAt = map[int64]time.Time{}, 1024
	}
	at := p.next[id]
	if at.Before(now) {
		at = now
	}
	p.next[id] = at.Add(floor)
	if len(p.next) >= p.sweepAt {
		// Hosts whose slot passed owe nothing: forget them, so the map
		// holds the hosts polling now, not every host ever seen.
		for h, t := range p.next {
			if t.Before(now) {
				delete(p.next, h)
			}
		}
		p.sweepAt = max(1024, 2*len(p.next))
	}
	p.mu.Unlock()
	if at.Equal(now) {
		return nil
	}
	t := time.NewTimer(at.Sub(now))
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
