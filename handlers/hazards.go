package handlers

import (
	"errors"
	"time"

	"portpanel/change"
	"portpanel/db"
	"portpanel/sysctl/usage"
)

// hazardError is err's refusal of an unacknowledged hazardous change, nil
// when it is none.
func hazardError(err error) *change.HazardError {
	var hz *change.HazardError
	if errors.As(err, &hz) {
		return hz
	}
	return nil
}

// approveRequest is POST /api/v1/changes/{id}/approve's optional body.
type approveRequest struct {
	Reason      string   `json:"reason"`
	Acknowledge []string `json:"acknowledge"`
}

func nonNilHazards(hs []db.Hazard) []db.Hazard {
	if hs == nil {
		return []db.Hazard{}
	}
	return hs
}

// listenerJSON is a port a service listens on inside a range.
type listenerJSON struct {
	Port    int    `json:"port"`
	Proto   string `json:"proto"`
	Process string `json:"process"`
	PID     int    `json:"pid"`
	Usually string `json:"usually"`
	// ListeningNow: the sampler's latest scan saw it; otherwise it was
	// seen within the last 7 days, last at LastSeen.
	ListeningNow bool   `json:"listening_now"`
	LastSeen     string `json:"last_seen"`
	Reserved     bool   `json:"reserved"`
}

func listenersJSON(cs []usage.Collision) []listenerJSON {
	out := make([]listenerJSON, 0, len(cs))
	for _, l := range cs {
		out = append(out, listenerJSON{Port: l.Port, Proto: l.Proto, Process: l.Process, PID: l.PID, Usually: l.Usually,
			ListeningNow: l.Now, LastSeen: l.LastSeen.UTC().Format(time.RFC3339Nano), Reserved: l.Reserved})
	}
	return out
}
