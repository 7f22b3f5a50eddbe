// Package throttle slows down password guessing. It counts sign-in attempts
// per client address and account name, and per client address alone, and
// says how long a client must wait before its next one. It knows nothing of
// HTTP, sessions or SQL, and it never decides whether a password is right.
//
// The numbers (OWASP Authentication Cheat Sheet; ASVS 4.0.3 2.2.1):
//   - an address gets 5 free failures per account name, then waits 1 s,
//     2 s, 4 s … doubling per failure up to 15 min. From one address that
//     is about 18 guesses in the first hour and 4 an hour after, well under
//     ASVS's 100 per account per hour;
//   - an address gets 20 free failures across all names (spraying one
//     password over many accounts), then the same backoff;
//   - nothing is counted per account across addresses. A wait that bites
//     an attacker on many addresses would bite the real admin too, which is
//     the lockout the panel must never allow; and a server-side sleep does
//     not slow an attacker who sends requests in parallel, it only holds
//     connections open and makes the admin wait. Guessing from many
//     addresses is met by the password rules (12+ characters, no common
//     passwords) and is visible in the audit log, which records every
//     attempt with its address;
//   - a success clears the (address, account) count, but not the address
//     count: an attacker with an account of their own must not be able to
//     reset their spraying count by signing in;
//   - a count with no attempt for an hour (and no wait still running)
//     starts over.
//
// The counts are kept by a Store. Serve keeps them in the database
// (DBStore), so that every replica of the control plane counts the same
// attempts: an attacker who alternates replicas gets no more tries than
// one who sticks to one, and a restart gives nobody a new burst. The
// memory store (the default) is for tests and for a limiter of one process;
// it holds at most 10,000 keys (a few MiB), the least recently seen dropped
// first. IPv6 clients are counted per /64, the block one subscriber usually
// holds, so a new address from the same block is no new start.
package throttle

import (
	"context"
	"fmt"
	"net/netip"
	"time"
)

// Config sets the limits. A zero field takes the default in brackets.
type Config struct {
	Free           int           // failures per (address, name) before any wait [5]
	FreePerAddress int           // failures per address, all names, before any wait [20]
	Base           time.Duration // the first wait, doubled per further failure [1 s]
	Max            time.Duration // the longest wait [15 min]
	Forget         time.Duration // a count idle this long starts over [1 h]
	MaxKeys        int           // keys the memory store keeps; the least recently seen go first [10,000]
	Store          Store         // where the counts are kept [in memory]
	Now            func() time.Time
}

// Limiter counts attempts. It is safe for concurrent use, and so are
// limiters of several processes on one Store that the Store serialises.
type Limiter struct {
	cfg   Config
	store Store
}

// New returns a limiter with cfg's limits.
func New(cfg Config) *Limiter {
	def := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&cfg.Base, time.Second)
	def(&cfg.Max, 15*time.Minute)
	def(&cfg.Forget, time.Hour)
	if cfg.Free <= 0 {
		cfg.Free = 5
	}
	if cfg.FreePerAddress <= 0 {
		cfg.FreePerAddress = 20
	}
	if cfg.MaxKeys <= 0 {
		cfg.MaxKeys = 10_000
	}
	// An attempt touches two keys; neither may evict the other.
	cfg.MaxKeys = max(cfg.MaxKeys, 2)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	l := &Limiter{cfg: cfg, store: cfg.Store}
	if l.store == nil {
		l.store = newMemory(cfg.MaxKeys)
	}
	return l
}

// Attempt is called before a password is checked. If the client at addr
// must still wait, it returns how long and counts nothing: waiting out one
// delay gives one more try, however often the client knocks meanwhile.
// Otherwise it returns 0 and counts the attempt as a failure at once, so a
// burst of parallel requests cannot all slip through before the first
// failure is known; Success takes it back.
func (l *Limiter) Attempt(ctx context.Context, addr, name string) (time.Duration, error) {
	now := l.cfg.Now()
	host := hostOf(addr)
	var wait time.Duration
	err := l.store.Update(ctx, []string{pairKey(host, name), hostKey(host)}, func(cs []Count) {
		for i := range cs {
			c := &cs[i]
			if now.Sub(c.Seen) >= l.cfg.Forget && !now.Before(c.Until) {
				*c = Count{}
			}
			c.Seen = now
			wait = max(wait, c.Until.Sub(now))
		}
		if wait > 0 {
			return
		}
		for i := range cs {
			cs[i].Fails++
			cs[i].Until = now.Add(l.delay(cs[i].Fails, l.free(i)))
		}
	})
	if err != nil {
		return 0, fmt.Errorf("count sign-in attempt: %w", err)
	}
	return wait, nil
}

// Success records that the attempt Attempt let through from addr as name
// had the right password: the (address, name) count is cleared and the
// address count loses the failure Attempt counted in advance.
func (l *Limiter) Success(ctx context.Context, addr, name string) error {
	host := hostOf(addr)
	err := l.store.Update(ctx, []string{pairKey(host, name), hostKey(host)}, func(cs []Count) {
		cs[0] = Count{}
		e := &cs[1]
		if e.Fails == 0 {
			return
		}
		e.Fails--
		// The wait this success set, recomputed without it. Measuring from
		// the latest attempt errs towards a longer wait when attempts from
		// the address overlap.
		if u := e.Seen.Add(l.delay(e.Fails, l.free(1))); u.Before(e.Until) {
			e.Until = u
		}
	})
	if err != nil {
		return fmt.Errorf("clear sign-in count: %w", err)
	}
	return nil
}

// free is the failures allowed before the first wait for the key at index
// i of an update: the (address, name) pair, then the address.
func (l *Limiter) free(i int) int {
	if i == 0 {
		return l.cfg.Free
	}
	return l.cfg.FreePerAddress
}

// delay is the wait after a key's latest failure, its fails-th.
func (l *Limiter) delay(fails, free int) time.Duration {
	over := fails - free
	if over <= 0 {
		return 0
	}
	if over > 30 { // 2^30 s is decades: past any sane Max, and no overflow
		return l.cfg.Max
	}
	return min(l.cfg.Base<<(over-1), l.cfg.Max)
}

// maxKeyPart bounds what a client can make the limiter hold per key. User
// names are at most 32 bytes (auth.CheckUserName), so names that differ only
// past this point are no real accounts, and sharing a count costs nothing.
const maxKeyPart = 64

func hostKey(host string) string       { return "a\x00" + host }
func pairKey(host, name string) string { return "u\x00" + host + "\x00" + truncate(name) }

// hostOf is the part of a client address that identifies one client: the
// IPv4 address, or the /64 of an IPv6 address.
func hostOf(addr string) string {
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return truncate(addr)
	}
	ip = ip.Unmap().WithZone("")
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}

func truncate(s string) string {
	if len(s) > maxKeyPart {
		return s[:maxKeyPart]
	}
	return s
}

// Len is the number of keys the memory store holds; 0 for another store.
func (l *Limiter) Len() int {
	if m, ok := l.store.(*memory); ok {
		return m.len()
	}
	return 0
}
