package fleet

import "sync"

// Hub wakes the long polls waiting on a host. LocalHub does it within one
// process; a deployment of replicas needs one that also reaches the
// others. A wake-up is a hint: whoever is woken reads the database again,
// so a lost or extra wake-up costs a round trip, never a wrong answer.
type Hub interface {
	// Subscribe returns a channel that receives after the next Wake(key),
	// and a function that ends the subscription. Subscribe before reading
	// the state, so a wake-up between the read and the wait is not lost.
	Subscribe(key string) (<-chan struct{}, func())
	// Wake wakes every subscriber of key.
	Wake(key string)
}

// LocalHub is an in-process Hub.
type LocalHub struct {
	mu   sync.Mutex
	subs map[string]map[chan struct{}]struct{}
}

// NewLocalHub returns an empty LocalHub.
func NewLocalHub() *LocalHub {
	return &LocalHub{subs: map[string]map[chan struct{}]struct{}{}}
}

func (h *LocalHub) Subscribe(key string) (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	h.mu.Lock()
	if h.subs[key] == nil {
		h.subs[key] = map[chan struct{}]struct{}{}
	}
	h.subs[key][ch] = struct{}{}
	h.mu.Unlock()
	return ch, func() {
		h.mu.Lock()
		delete(h.subs[key], ch)
		if len(h.subs[key]) == 0 {
			delete(h.subs, key)
		}
		h.mu.Unlock()
	}
}

func (h *LocalHub) Wake(key string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs[key] {
		select {
		case ch <- struct{}{}:
		default: // already woken, not yet read
		}
	}
}

// Keys of the hub: a host's long poll, and a preview's waiting requester.
func hostKey(name string) string  { return "host:" + name }
func previewKey(id string) string { return "preview:" + id }
