package agenttest

import (
	"net/http"
	"sync"
)

// Freezer holds every request that arrives while it is frozen, without
// answering or closing, as a control plane stopped with kill -STOP
// would: the agent sees no error, only silence.
type Freezer struct {
	mu     sync.Mutex
	thawed chan struct{} // nil while not frozen
}

// Wrap holds h's requests while f is frozen.
func (f *Freezer) Wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		thawed := f.thawed
		f.mu.Unlock()
		if thawed != nil {
			select {
			case <-thawed:
			case <-r.Context().Done():
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}

// Freeze holds requests from now on.
func (f *Freezer) Freeze() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.thawed == nil {
		f.thawed = make(chan struct{})
	}
}

// Thaw lets held and later requests through.
func (f *Freezer) Thaw() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.thawed != nil {
		close(f.thawed)
		f.thawed = nil
	}
}
