package throttle

import (
	"container/list"
	"context"
	"sync"
	"time"

	"portpanel/db"
)

// Count is what is kept per key: the failures counted, the end of the wait
// they set, and the latest attempt (for Forget and eviction). The zero
// Count is a key with no history, and a store need not keep it.
type Count struct {
	Fails int
	Until time.Time // no attempt before this
	Seen  time.Time
}

// A Store keeps the counts. Update calls fn with the counts of keys, in
// order (the zero Count for a key not held), and keeps what fn leaves in
// them. No other Update of any of those keys, from this process or another
// sharing the store, runs in between: the check and the count of an attempt
// are one step, so a parallel burst cannot slip through.
type Store interface {
	Update(ctx context.Context, keys []string, fn func([]Count)) error
}

// DBStore keeps the counts in the database, shared by every replica of the
// control plane (db.UpdateThrottle).
type DBStore struct{ DB *db.DB }

// Update implements Store.
func (s DBStore) Update(ctx context.Context, keys []string, fn func([]Count)) error {
	return s.DB.UpdateThrottle(ctx, keys, func(rows []db.ThrottleCount) {
		cs := make([]Count, len(rows))
		for i, r := range rows {
			cs[i] = Count(r)
		}
		fn(cs)
		for i, c := range cs {
			rows[i] = db.ThrottleCount(c)
		}
	})
}

// memory keeps at most max keys in this process, dropping the least
// recently updated first.
type memory struct {
	max  int
	mu   sync.Mutex
	keys map[string]*list.Element // of *entry
	lru  *list.List               // most recently updated first
}

type entry struct {
	key string
	Count
}

func newMemory(max int) *memory {
	return &memory{max: max, keys: map[string]*list.Element{}, lru: list.New()}
}

func (m *memory) Update(_ context.Context, keys []string, fn func([]Count)) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	cs := make([]Count, len(keys))
	for i, k := range keys {
		if el, ok := m.keys[k]; ok {
			cs[i] = el.Value.(*entry).Count
		}
	}
	fn(cs)
	for i, k := range keys {
		el, held := m.keys[k]
		switch {
		case cs[i] == Count{}:
			if held {
				m.remove(el)
			}
		case held:
			el.Value.(*entry).Count = cs[i]
			m.lru.MoveToFront(el)
		default:
			// The keys of this update are at the front: eviction takes
			// others first (New keeps max at 2 or more).
			for m.lru.Len() >= m.max {
				m.remove(m.lru.Back())
			}
			m.keys[k] = m.lru.PushFront(&entry{key: k, Count: cs[i]})
		}
	}
	return nil
}

func (m *memory) len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lru.Len()
}

func (m *memory) remove(el *list.Element) {
	delete(m.keys, el.Value.(*entry).key)
	m.lru.Remove(el)
}
