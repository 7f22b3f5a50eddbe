package fleet

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"sync"
	"time"

	"portpanel/db"
)

// WakeChannel is the PostgreSQL channel replicas wake each other on. NOTIFY
// reaches the listeners of one database only, so every control plane (one
// database each) has a channel of its own under this one name.
const WakeChannel = "portpanel_wake"

// DefaultRecheck is how often a ReplicaHub compares the hosts' wake marks,
// for the wake-ups NOTIFY lost (a listener reconnecting after a PostgreSQL
// restart hears nothing sent meanwhile).
const DefaultRecheck = 2 * time.Second

// ReplicaHub is the Hub of a control plane with replicas on PostgreSQL. It
// wakes this process's polls as LocalHub does and tells the other replicas
// with NOTIFY (payload: the sender and the key, such as "host:web1"); Run
// listens for theirs. Its recheck loop wakes the polls of every host whose
// wake marks moved since the last look, so a lost notification delays a
// wake-up by Recheck at most, never loses it.
type ReplicaHub struct {
	DB *db.DB
	// Recheck is the fallback's period (DefaultRecheck if 0); a negative
	// one turns the fallback off (tests of NOTIFY alone).
	Recheck time.Duration
	// Listen false leaves NOTIFY unheard (tests of the fallback alone).
	Listen bool
	// Report is told of the trouble Run gets past (a lost connection, a
	// failed NOTIFY), for serve to log; nil drops it.
	Report func(error)

	once  sync.Once
	local *LocalHub
	self  string // this replica's tag in payloads: its own are not news
}

func (h *ReplicaHub) init() {
	h.once.Do(func() {
		h.local = NewLocalHub()
		b := make([]byte, 8)
		rand.Read(b) // never fails (crypto/rand's promise since Go 1.24)
		h.self = hex.EncodeToString(b)
	})
}

// Subscribe implements Hub.
func (h *ReplicaHub) Subscribe(key string) (<-chan struct{}, func()) {
	h.init()
	return h.local.Subscribe(key)
}

// Wake implements Hub: this process's subscribers at once, the other
// replicas' through NOTIFY, sent after the caller's commit.
func (h *ReplicaHub) Wake(key string) {
	h.init()
	h.local.Wake(key)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := h.DB.Notify(ctx, WakeChannel, h.self+" "+key); err != nil {
		h.report(err)
	}
}

// Run listens to the other replicas and runs the fallback until ctx ends.
// A lost connection is reported and listened again after a pause.
func (h *ReplicaHub) Run(ctx context.Context) {
	h.init()
	var wg sync.WaitGroup
	defer wg.Wait()
	if every := h.recheck(); every > 0 {
		wg.Go(func() { h.recheckLoop(ctx, every) })
	}
	if !h.Listen {
		<-ctx.Done()
		return
	}
	pause := time.Second
	for ctx.Err() == nil {
		err := h.DB.Listen(ctx, WakeChannel, func() { pause = time.Second }, h.heard)
		if ctx.Err() != nil {
			return
		}
		h.report(err)
		select {
		case <-ctx.Done():
		case <-time.After(pause):
		}
		pause = min(2*pause, 30*time.Second)
	}
}

func (h *ReplicaHub) heard(payload string) {
	from, key, ok := strings.Cut(payload, " ")
	if ok && from != h.self {
		h.local.Wake(key)
	}
}

func (h *ReplicaHub) recheck() time.Duration {
	if h.Recheck == 0 {
		return DefaultRecheck
	}
	return h.Recheck
}

// recheckLoop wakes the polls of the hosts whose marks changed between two
// looks: a change a notification should have announced.
func (h *ReplicaHub) recheckLoop(ctx context.Context, every time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	var last map[string]string
	failing := false
	for {
		marks, err := h.DB.WakeMarks(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			// Once per outage, not every few seconds of it.
			if !failing {
				h.report(err)
			}
			failing = true
		case err == nil:
			failing = false
			if last != nil {
				for name, m := range marks {
					if last[name] != m {
						h.local.Wake(hostKey(name))
					}
				}
			}
			last = marks
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (h *ReplicaHub) report(err error) {
	if h.Report != nil && err != nil {
		h.Report(err)
	}
}
