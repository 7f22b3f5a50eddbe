package change

// A change is hazardous when it would break something that works now:
// too few ports, fewer than the busiest destination holds, a service's
// port handed to outgoing connections, or today's connections left
// outside the range. Such a change is applied only once each of its
// hazards was acknowledged, by code: the API's "acknowledge", a checkbox
// per hazard on the review page. Rollbacks and automatic reverts are
// checked and their hazards recorded, but never gated: they restore a
// value the host ran before, and an admin in an incident must not be
// held up by a checkbox.

import (
	"fmt"
	"slices"
	"strings"

	"portpanel/db"
	"portpanel/sysctl"
	"portpanel/sysctl/usage"
)

// Hazard codes, stable: API clients send them back to acknowledge.
const (
	HazardSmallRange         = "small-range"
	HazardBelowBusiest       = "below-busiest"
	HazardListenerInRange    = "listener-in-range"
	HazardConnectionsOutside = "connections-outside"
)

// HazardCodes are the codes, in the order checks report them.
var HazardCodes = []string{HazardSmallRange, HazardBelowBusiest, HazardListenerInRange, HazardConnectionsOutside}

// MinSafePorts is the fewest usable ports a range may leave without the
// small-range hazard.
const MinSafePorts = 1000

// HazardError refuses a hazardous change that was not acknowledged in
// full; nothing was changed. Hazards are the unacknowledged ones.
type HazardError struct {
	Hazards []db.Hazard
}

func (e *HazardError) Error() string {
	codes := hazardCodes(e.Hazards)
	what := "this hazard"
	if len(codes) > 1 {
		what = "each of these hazards"
	}
	return fmt.Sprintf("Nothing was changed: this change is hazardous. Read what it risks and acknowledge %s to go ahead: %s.",
		what, strings.Join(codes, ", "))
}

func hazardCodes(hs []db.Hazard) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = h.Code
	}
	return out
}

// checkAcknowledge refuses an acknowledgement that names no hazard: a
// misspelt code must not pass for an acknowledgement.
func checkAcknowledge(codes []string) error {
	for _, c := range codes {
		if !slices.Contains(HazardCodes, c) {
			return &InvalidError{Field: "acknowledge", Message: fmt.Sprintf(
				"%q is not a hazard code: acknowledge one of %s.", c, strings.Join(HazardCodes, ", "))}
		}
	}
	return nil
}

// acknowledge returns the codes of hazards that ack acknowledges, or a
// HazardError naming every one it does not.
func acknowledge(hazards []db.Hazard, ack []string) ([]string, error) {
	var done []string
	var open []db.Hazard
	for _, h := range hazards {
		if slices.Contains(ack, h.Code) {
			done = append(done, h.Code)
		} else {
			open = append(open, h)
		}
	}
	if len(open) > 0 {
		return nil, &HazardError{Hazards: open}
	}
	return done, nil
}

// checkHazards sets c.Hazards for c's range against st and the reserved
// ports it will have, and adds a warning for each listening port inside
// that range that is not reserved. listener-in-range is about the ports
// the change puts at risk: inside the range and unreserved after it, and
// not before.
func (s *Service) checkHazards(c *db.Change, st sysctl.KernelState, reserved string) {
	target := sysctl.Range{Low: c.Low, High: c.High}
	c.Hazards = nil
	add := func(code, format string, args ...any) {
		c.Hazards = append(c.Hazards, db.Hazard{Code: code, Message: fmt.Sprintf(format, args...)})
	}
	res, _ := sysctl.ParseReservedPorts(reserved) // the kernel's own value, or one validated already
	inRange := sysctl.ReservedInRange(res, target)
	switch usable := target.Size() - inRange; {
	case usable < MinSafePorts && inRange > 0:
		add(HazardSmallRange, "The new range leaves only %d usable ports (%d of its %d are reserved), fewer than %s: a busy host runs out, and then outgoing connections fail with EADDRNOTAVAIL (\"Cannot assign requested address\").",
			usable, inRange, target.Size(), "1,000")
	case usable < MinSafePorts:
		add(HazardSmallRange, "The new range has only %d ports, fewer than %s: a busy host runs out, and then outgoing connections fail with EADDRNOTAVAIL (\"Cannot assign requested address\").",
			usable, "1,000")
	}
	if im := s.impactWith(st, target, reserved); im != nil {
		if b := im.Busiest; b != nil && b.Sockets > im.Capacity {
			add(HazardBelowBusiest, "The busiest destination, %s from %s, holds %d ports right now, more than the %d the new range leaves: its new connections would fail with EADDRNOTAVAIL until enough of today's close.",
				b.Remote, b.LocalIP, b.Sockets, im.Capacity)
		}
		if im.Outside > 0 {
			add(HazardConnectionsOutside, "%d open sockets use local ports outside the new range: they keep those ports until they close, so the move takes effect only as they go, and a service meant to take over one of those ports cannot bind it meanwhile (EADDRINUSE).",
				im.Outside)
		}
	}
	open := unreserved(s.Collisions(target, reserved))
	for _, l := range open {
		c.Warnings = append(c.Warnings, collisionWarning(l))
	}
	// The gate is for what the change does: a port inside the range and
	// unreserved already is at risk whether or not this change is made
	// (the dashboard says so, and the warnings above).
	before := unreserved(s.Collisions(st.Range, st.ReservedPorts))
	put := slices.DeleteFunc(slices.Clone(open), func(l usage.Collision) bool {
		return slices.ContainsFunc(before, func(b usage.Collision) bool { return b.Port == l.Port && b.Proto == l.Proto })
	})
	if len(put) == 0 {
		return
	}
	names := make([]string, len(put))
	for i, l := range put {
		names[i] = l.Label()
	}
	add(HazardListenerInRange, "This change puts %d listening %s inside the range, not reserved: %s. %s Reserve %s (with any other listening port in the range) first: %s.",
		len(put), plural(len(put), "port", "ports"), strings.Join(names, "; "), usage.RestartFailure,
		plural(len(put), "it", "them"), ReserveFix(open, reserved))
	// Keep the order of HazardCodes whatever order the checks ran in.
	slices.SortStableFunc(c.Hazards, func(a, b db.Hazard) int {
		return slices.Index(HazardCodes, a.Code) - slices.Index(HazardCodes, b.Code)
	})
}

// collisionWarning is the warning for one listening port inside the new
// range: what fails, and the fix.
func collisionWarning(c usage.Collision) string {
	who := "the service"
	if c.Process != "" {
		who = c.Process
	}
	return fmt.Sprintf("Port %s is inside the new range and not reserved: if %s restarts while an outgoing connection holds port %d, its bind() fails with EADDRINUSE. Reserve it in %s.",
		c.Label(), who, c.Port, sysctl.ReservedKey)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// impactWith previews target against the latest scan, with reserved as
// the reserved ports it will have; nil before the first scan.
func (s *Service) impactWith(st sysctl.KernelState, target sysctl.Range, reserved string) *usage.Impact {
	s.usage.mu.Lock()
	socks, ok := s.usage.socks, s.usage.snap != nil
	s.usage.mu.Unlock()
	if !ok {
		return nil
	}
	// ImpactOf reads the reserved ports only for the new range's
	// capacity: today's demand does not depend on them.
	st.ReservedPorts = reserved
	im, err := usage.ImpactOf(socks, st, target)
	if err != nil {
		return nil // target and reserved were validated already; a refusal here only loses the check
	}
	return &im
}

// hazardDetail is how the audit log names c's hazards.
func hazardDetail(c db.Change) string {
	switch {
	case len(c.Hazards) == 0 && len(c.Acknowledged) == 0:
		return ""
	case c.RollbackOf != nil:
		return ", hazards (a rollback is not gated): " + strings.Join(hazardCodes(c.Hazards), ", ")
	}
	return ", hazards acknowledged: " + strings.Join(c.Acknowledged, ", ")
}

// NewHazards is what approving proposal c now would need its approver to
// acknowledge: its hazards against the state now that its author did not
// acknowledge. A rollback needs none.
func (s *Service) NewHazards(c db.Change) ([]db.Hazard, error) {
	if c.RollbackOf != nil {
		return nil, nil
	}
	if c.Host != "" {
		// The host's agent checks them again when the change is approved;
		// until then they are the ones its preview found.
		return unacknowledged(c), nil
	}
	st, err := s.Kernel.Read()
	if err != nil {
		return nil, fmt.Errorf("read kernel: %w", err)
	}
	s.checkHazards(&c, st, proposedReserved(st, c))
	return unacknowledged(c), nil
}

// unacknowledged is c's hazards that nobody acknowledged.
func unacknowledged(c db.Change) []db.Hazard {
	var out []db.Hazard
	for _, h := range c.Hazards {
		if !slices.Contains(c.Acknowledged, h.Code) {
			out = append(out, h)
		}
	}
	return out
}
