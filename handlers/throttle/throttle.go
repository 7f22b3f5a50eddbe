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
// State is in memory on purpose. It resets when portpanel restarts, which
// an attacker cannot cause and which gives them at most one more burst of
// free attempts; keeping it in SQLite would add a write per attempt and a
// table to prune for no gain. Memory is bounded: at most 10,000 keys (a few
// MiB), the least recently seen is dropped first. IPv6 clients are counted
// per /64, the block one subscriber usually holds, so a new address from
// the same block is no new start.
package throttle

import (
	"container/list"
	"net/netip"
	"sync"
	"time"
)

// Config sets the limits. A zero field takes the default in brackets.
type Config struct {
	Free           int           // failures per (address, name) before any wait [5]
	FreePerAddress int           // failures per address, all names, before any wait [20]
	Base           time.Duration // the first wait, doubled per further failure [1 s]
	Max            time.Duration // the longest wait [15 min]
	Forget         time.Duration // a count idle this long starts over [1 h]
	MaxKeys        int           // keys kept in memory; the least recently seen go first [10,000]
	Now            func() time.Time
}

// Limiter counts attempts. It is safe for concurrent use.
type Limiter struct {
	cfg  Config
	mu   sync.Mutex
	keys map[string]*list.Element // of *entry
	lru  *list.List               // most recently seen first
}

type entry struct {
	key   string
	free  int       // failures allowed before the first wait
	fails int       // failures counted, including attempts in flight
	until time.Time // no attempt before this
	seen  time.Time // last attempt, for Forget and eviction
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
	return &Limiter{cfg: cfg, keys: map[string]*list.Element{}, lru: list.New()}
}

// Attempt is called before a password is checked. If the client at addr
// must still wait, it returns how long and counts nothing: waiting out one
// delay gives one more try, however often the client knocks meanwhile.
// Otherwise it returns 0 and counts the attempt as a failure at once, so a
// burst of parallel requests cannot all slip through before the first
// failure is known; Success takes it back.
func (l *Limiter) Attempt(addr, name string) time.Duration {
	now := l.cfg.Now()
	host := hostOf(addr)
	l.mu.Lock()
	defer l.mu.Unlock()
	pair := l.get(pairKey(host, name), l.cfg.Free, now)
	byHost := l.get(hostKey(host), l.cfg.FreePerAddress, now)
	if wait := max(pair.until.Sub(now), byHost.until.Sub(now)); wait > 0 {
		return wait
	}
	for _, e := range []*entry{pair, byHost} {
		e.fails++
		e.until = now.Add(l.delay(e))
	}
	return 0
}

// Success records that the attempt Attempt let through from addr as name
// had the right password: the (address, name) count is cleared and the
// address count loses the failure Attempt counted in advance.
func (l *Limiter) Success(addr, name string) {
	host := hostOf(addr)
	l.mu.Lock()
	defer l.mu.Unlock()
	if el, ok := l.keys[pairKey(host, name)]; ok {
		l.remove(el)
	}
	if el, ok := l.keys[hostKey(host)]; ok {
		e := el.Value.(*entry)
		e.fails = max(e.fails-1, 0)
		// The wait this success set, recomputed without it. Measuring from
		// the latest attempt errs towards a longer wait when attempts from
		// the address overlap.
		if u := e.seen.Add(l.delay(e)); u.Before(e.until) {
			e.until = u
		}
	}
}

// Len is the number of keys held.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lru.Len()
}

// delay is the wait after e's latest failure.
func (l *Limiter) delay(e *entry) time.Duration {
	over := e.fails - e.free
	if over <= 0 {
		return 0
	}
	if over > 30 { // 2^30 s is decades: past any sane Max, and no overflow
		return l.cfg.Max
	}
	return min(l.cfg.Base<<(over-1), l.cfg.Max)
}

// get returns key's entry, creating it (and dropping the least recently
// seen key when full) or starting it over when it has been idle for Forget.
func (l *Limiter) get(key string, free int, now time.Time) *entry {
	if el, ok := l.keys[key]; ok {
		e := el.Value.(*entry)
		if now.Sub(e.seen) >= l.cfg.Forget && !now.Before(e.until) {
			e.fails, e.until = 0, time.Time{}
		}
		e.seen = now
		l.lru.MoveToFront(el)
		return e
	}
	for l.lru.Len() >= l.cfg.MaxKeys {
		l.remove(l.lru.Back())
	}
	e := &entry{key: key, free: free, seen: now}
	l.keys[key] = l.lru.PushFront(e)
	return e
}

func (l *Limiter) remove(el *list.Element) {
	delete(l.keys, el.Value.(*entry).key)
	l.lru.Remove(el)
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
