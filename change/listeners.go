package change

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"portpanel/db"
	"portpanel/sysctl"
	"portpanel/sysctl/usage"
)

// ListenerMemory is how long a listener is remembered after the sampler
// last saw it: a service that is down right now (restarting, crashed,
// stopped for maintenance) is the one a change puts at risk. The usage
// retention job deletes older sightings.
const ListenerMemory = 7 * 24 * time.Hour

// listenerState is what the sampler last learnt of the listeners.
type listenerState struct {
	owners usage.Owners

	mu   sync.Mutex
	now  map[listenerKey]bool  // listening at the latest scan
	seen []db.ListenerSighting // within ListenerMemory of the latest scan
	scan uint64                // counts the scans kept: see ListenersSeen
}

type listenerKey struct {
	proto string
	port  int
}

// sampleListeners scans the listeners, names their processes, records the
// sightings and keeps those of the last ListenerMemory for Collisions.
func (s *Service) sampleListeners(ctx context.Context, rng sysctl.Range, at time.Time) error {
	ls, _, err := s.Sockets.Listeners(ctx, rng)
	if err != nil {
		return fmt.Errorf("scan listeners: %w", err)
	}
	// Unnamed listeners are still recorded: the port is what matters.
	nameErr := s.listeners.owners.Name(ctx, ls)
	now := map[listenerKey]bool{}
	byKey := map[db.ListenerSighting]bool{}
	var sightings []db.ListenerSighting
	for _, l := range ls {
		k := listenerKey{l.Proto, int(l.Local.Port())}
		now[k] = true
		sg := db.ListenerSighting{Proto: k.proto, Port: k.port, Process: l.Process, PID: l.PID}
		if !byKey[sg] {
			byKey[sg] = true
			sightings = append(sightings, sg)
		}
	}
	if err := s.DB.RecordListeners(ctx, at, sightings); err != nil {
		return err
	}
	seen, err := s.DB.ListenersSince(ctx, at.Add(-ListenerMemory))
	if err != nil {
		return err
	}
	s.listeners.mu.Lock()
	s.listeners.now, s.listeners.seen = now, seen
	s.listeners.scan++
	s.listeners.mu.Unlock()
	return nameErr
}

// ListenersSeen names the sampler's latest scan of the listeners: while
// it is the same, so is what Collisions answers for the same arguments.
func (s *Service) ListenersSeen() uint64 {
	s.listeners.mu.Lock()
	defer s.listeners.mu.Unlock()
	return s.listeners.scan
}

// Collisions lists the ports services listen on, or did within
// ListenerMemory, inside rng, by port: one per protocol and port, named
// after the process seen last. reserved is ip_local_reserved_ports to
// mark the safe ones with. nil until the sampler has scanned.
func (s *Service) Collisions(rng sysctl.Range, reserved string) []usage.Collision {
	res, _ := sysctl.ParseReservedPorts(reserved) // the kernel's own value, or one validated already
	s.listeners.mu.Lock()
	defer s.listeners.mu.Unlock()
	var out []usage.Collision
	at := map[listenerKey]int{}
	for _, sg := range s.listeners.seen {
		if sg.Port < rng.Low || sg.Port > rng.High {
			continue
		}
		k := listenerKey{sg.Proto, sg.Port}
		i, ok := at[k]
		if !ok {
			at[k] = len(out)
			out = append(out, usage.Collision{Proto: sg.Proto, Port: sg.Port, Usually: usage.WellKnown(sg.Port),
				Now: s.listeners.now[k], Reserved: sysctl.ReservedInRange(res, sysctl.Range{Low: sg.Port, High: sg.Port}) > 0})
			i = len(out) - 1
		}
		c := &out[i]
		// The latest sighting names it; a named one beats an unnamed
		// one of the same scan.
		if sg.LastSeen.After(c.LastSeen) || (sg.LastSeen.Equal(c.LastSeen) && c.Process == "") {
			c.Process, c.PID, c.LastSeen = sg.Process, sg.PID, sg.LastSeen
		}
	}
	slices.SortFunc(out, func(a, b usage.Collision) int {
		return cmp.Or(cmp.Compare(a.Port, b.Port), cmp.Compare(a.Proto, b.Proto))
	})
	return out
}

// unreserved is the collisions that are not reserved.
func unreserved(cs []usage.Collision) []usage.Collision {
	var out []usage.Collision
	for _, c := range cs {
		if !c.Reserved {
			out = append(out, c)
		}
	}
	return out
}
