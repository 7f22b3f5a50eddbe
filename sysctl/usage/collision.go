package usage

import (
	"fmt"
	"strings"
	"time"
)

// RestartFailure says in one sentence why a listening port inside the
// range is at risk.
const RestartFailure = "connect() skips a port while a service listens on it, but if that service restarts while an outgoing connection holds the port, its bind() fails with EADDRINUSE and it does not come back."

// Collision is a port a service listens on inside a range (a port
// connect() may hand out), now or in the recent past.
type Collision struct {
	Proto string // TCP or UDP
	Port  int
	// Process and PID held it when last seen ("" and 0: unknown).
	Process string
	PID     int
	// Usually is what the port is usually used for ("PostgreSQL"), "" for
	// a port that is not well known.
	Usually string
	// Now: the latest scan saw it listening; otherwise it was last seen
	// at LastSeen.
	Now      bool
	LastSeen time.Time
	// Reserved: ip_local_reserved_ports holds it, so connect() never
	// takes it and it is safe.
	Reserved bool
}

// Label names a collision: "5432/tcp (postgres, PID 812; usually
// PostgreSQL)".
func (c Collision) Label() string {
	var who []string
	if c.Process != "" {
		who = append(who, c.Process)
	}
	if c.PID > 0 {
		who = append(who, fmt.Sprintf("PID %d", c.PID))
	}
	s := fmt.Sprintf("%d/%s", c.Port, c.Proto)
	var paren []string
	if len(who) > 0 {
		paren = append(paren, strings.Join(who, ", "))
	}
	if c.Usually != "" {
		paren = append(paren, "usually "+c.Usually)
	}
	if !c.Now {
		paren = append(paren, "not listening now, last seen "+c.LastSeen.UTC().Format("2006-01-02 15:04 MST"))
	}
	if len(paren) > 0 {
		s += " (" + strings.Join(paren, "; ") + ")"
	}
	return s
}
