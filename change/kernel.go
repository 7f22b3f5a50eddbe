package change

// The kernel half of an apply: a change sets the range and, when it says
// so, ip_local_reserved_ports. Each key is written with one write(2) and
// read back; the two go in the order that leaves no port exposed in
// between that is exposed neither before nor after (reserve before
// widening, unreserve after narrowing); whatever fails puts back, in
// reverse order, every key already written.

import (
	"errors"
	"fmt"
	"strings"

	"portpanel/change/fault"
	"portpanel/db"
	"portpanel/sysctl"
)

// keyWrite is one key of a change: how to write its new value, read it
// back, and put the before value back (read back too).
type keyWrite struct {
	key    string // sysctl.Key or sysctl.ReservedKey
	name   string // for messages: "the range", "the reserved ports"
	write  func() error
	check  func() error
	revert func() error
	// beforeText says what revert restores, for messages.
	beforeText string
}

// keyWrites lists the keys c sets, in the order they are written.
func (s *Service) keyWrites(c db.Change) []keyWrite {
	before := sysctl.Range{Low: c.BeforeLow, High: c.BeforeHigh}
	target := sysctl.Range{Low: c.Low, High: c.High}
	rng := keyWrite{key: sysctl.Key, name: "the range", beforeText: fmt.Sprintf("%d %d", before.Low, before.High),
		write:  func() error { return s.Kernel.WriteRange(target) },
		check:  func() error { return s.checkRange(target) },
		revert: func() error { return s.setRange(before) }}
	if c.ReservedPorts == nil {
		return []keyWrite{rng}
	}
	list, beforeList := *c.ReservedPorts, *c.BeforeReservedPorts
	res := keyWrite{key: sysctl.ReservedKey, name: "the reserved ports", beforeText: "reserved ports " + portsText(beforeList),
		write:  func() error { return s.Kernel.WriteReserved(list) },
		check:  func() error { return s.checkReserved(list) },
		revert: func() error { return s.setReserved(beforeList) }}
	if reserveFirst(before, target, beforeList, list) {
		return []keyWrite{res, rng}
	}
	return []keyWrite{rng, res}
}

// writeKernel sets every key of c, in order, each read back. On failure
// the keys already written are put back and the error says so; refused is
// true when the kernel refused a value.
func (s *Service) writeKernel(c db.Change) (refused bool, err error) {
	writes := s.keyWrites(c)
	for i, w := range writes {
		if err := w.write(); err != nil {
			var kr *sysctl.KernelRefusedError
			refused = errors.As(err, &kr)
			if i == 0 {
				return refused, fmt.Errorf("%w; nothing was changed", err)
			}
			return refused, putBack(writes[:i], err) // this key kept its value
		}
		if err := w.check(); err != nil {
			return false, putBack(writes[:i+1], err)
		}
		if i == 0 {
			fault.Point(fault.KernelFirstWritten)
		}
	}
	return false, nil
}

// putBack restores keys (written before cause) in reverse order and says
// whether it worked: a kernel left on a new value must never go
// unreported.
func putBack(keys []keyWrite, cause error) error {
	var restored []string
	for i := len(keys) - 1; i >= 0; i-- {
		k := keys[i]
		if err := k.revert(); err != nil {
			return fmt.Errorf("%w; restoring %s to %s FAILED: %v", cause, k.name, k.beforeText, err)
		}
		restored = append(restored, k.beforeText)
	}
	return fmt.Errorf("%w; the kernel was restored to %s", cause, strings.Join(restored, " and "))
}

// putKernelBack restores every key of c after cause.
func (s *Service) putKernelBack(c db.Change, cause error) error {
	return putBack(s.keyWrites(c), cause)
}

// setRange writes r and reads it back.
func (s *Service) setRange(r sysctl.Range) error {
	if err := s.Kernel.WriteRange(r); err != nil {
		return err
	}
	return s.checkRange(r)
}

func (s *Service) checkRange(r sysctl.Range) error {
	got, err := s.Kernel.ReadRange()
	if err == nil && got != r {
		err = fmt.Errorf("the kernel reads back %d %d after writing %d %d", got.Low, got.High, r.Low, r.High)
	}
	return err
}

// setReserved writes list and reads it back.
func (s *Service) setReserved(list string) error {
	if err := s.Kernel.WriteReserved(list); err != nil {
		return err
	}
	return s.checkReserved(list)
}

func (s *Service) checkReserved(list string) error {
	got, err := s.Kernel.ReadReserved()
	if err == nil && got != list {
		err = fmt.Errorf("the kernel reads back reserved ports %s after writing %s", portsText(got), portsText(list))
	}
	return err
}

// reserveFirst decides the order of the two writes. In between, the kernel
// holds either the old range with the new reserved ports (reserved first)
// or the new range with the old reserved ports. A port is exposed when
// connect() may take it: inside the range and not reserved. The order
// chosen exposes fewer ports that are exposed neither before nor after:
// none at all when the change only reserves (write them first, then widen)
// or only unreserves (narrow first, then unreserve). Ties go to reserving
// first. A list that does not parse (never one portpanel planned) is
// written last.
func reserveFirst(before, after sysctl.Range, beforeList, afterList string) bool {
	old, err1 := sysctl.ParseReservedPorts(beforeList)
	next, err2 := sysctl.ParseReservedPorts(afterList)
	if err1 != nil || err2 != nil {
		return false
	}
	var oldSet, newSet portSet
	oldSet.add(old)
	newSet.add(next)
	bad := func(r sysctl.Range, reserved *portSet) int {
		n := 0
		for p := r.Low; p <= r.High; p++ {
			exposedBefore := before.Low <= p && p <= before.High && !oldSet.has(p)
			exposedAfter := after.Low <= p && p <= after.High && !newSet.has(p)
			if !reserved.has(p) && !exposedBefore && !exposedAfter {
				n++
			}
		}
		return n
	}
	return bad(before, &newSet) <= bad(after, &oldSet)
}

// portSet is a set of ports 0..65535.
type portSet [65536 / 64]uint64

func (s *portSet) add(ports []sysctl.Range) {
	for _, r := range ports {
		for p := max(r.Low, 0); p <= min(r.High, 65535); p++ {
			s[p/64] |= 1 << (p % 64)
		}
	}
}

func (s *portSet) has(p int) bool { return s[p/64]&(1<<(p%64)) != 0 }

// portsText is a reserved-ports list in words: "none" for the empty one.
func portsText(list string) string {
	if list == "" {
		return "none"
	}
	return list
}
