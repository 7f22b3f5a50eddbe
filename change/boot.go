package change

import (
	"fmt"
	"os"

	"portpanel/sysctl"
)

// bootWarnings says why the host would not boot with target once the
// managed file holds after: the boot reader is replayed on the config tree
// as it will be, so a later file that shadows the new line, a kernel rule
// that refuses it at boot (a later ip_unprivileged_port_start line, say), or
// a file portpanel cannot read is named on the review page, before anything
// is written. The dashboard's "overridden by" sentence describes the files
// as they are now; these describe them after the change.
func (s *Service) bootWarnings(t sysctl.Target, after []byte) ([]string, error) {
	b, err := s.Config.BootAfterEdit(s.Reader, s.File, after)
	if err != nil {
		return nil, fmt.Errorf("replay the boot value with the edited %s: %w", s.File, err)
	}
	target := t.Range
	var out []string
	if !(b.Set && b.Range != nil && *b.Range == target) {
		out = append(out, s.notBootedWith(b, target))
	}
	if t.Reserved != nil && b.Reserved.Ports != *t.Reserved {
		out = append(out, s.notBootedWithReserved(b, *t.Reserved))
	}
	for _, u := range b.Uncertain {
		out = append(out, "Boot value uncertain after this change: "+u+".")
	}
	return out, nil
}

// notBootedWith explains b, the boot value after the edit, which is not
// target.
func (s *Service) notBootedWith(b sysctl.Boot, target sysctl.Range) string {
	boots := bootText(b)
	for _, r := range b.Refused {
		if sameFile(r.Where.File, s.File) {
			return fmt.Sprintf("At boot the kernel will refuse the line this change writes (%s:%d, %q): %s. The host would boot with %s.",
				r.Where.File, r.Where.Line, r.Value, r.Reason, boots)
		}
	}
	managed, winner := -1, -1
	for i, f := range b.Files {
		if sameFile(f, s.File) {
			managed = i
		}
		if b.Set && b.Range != nil && f == b.Where.File {
			winner = i
		}
	}
	switch {
	case managed < 0:
		return fmt.Sprintf("The boot reader does not read %s, so the new range is lost at reboot: the host would boot with %s.", s.File, boots)
	case winner > managed:
		return fmt.Sprintf("%s:%d sets %s to %q and is read at boot after %s, so the host would boot with %s, not %s: remove that line, or change the value there.",
			b.Where.File, b.Where.Line, sysctl.Key, b.Value, s.File, rangeText(*b.Range), rangeText(target))
	}
	return fmt.Sprintf("After a reboot the host would boot with %s, not %s.", boots, rangeText(target))
}

// notBootedWithReserved explains b, the boot value after the edit, whose
// reserved ports are not list.
func (s *Service) notBootedWithReserved(b sysctl.Boot, list string) string {
	r := b.Reserved
	boots := "no reserved ports (the kernel default)"
	switch {
	case r.Set:
		boots = fmt.Sprintf("reserved ports %s (%s:%d)", portsText(r.Ports), r.Where.File, r.Where.Line)
	case r.Dropped:
		boots = fmt.Sprintf("no reserved ports (%s:%d drops the key)", r.Where.File, r.Where.Line)
	}
	for _, w := range r.Refused {
		if sameFile(w.Where.File, s.File) {
			return fmt.Sprintf("At boot the kernel will refuse the reserved ports this change writes (%s:%d, %q): %s. The host would boot with %s.",
				w.Where.File, w.Where.Line, w.Value, w.Reason, boots)
		}
	}
	if r.Set && !sameFile(r.Where.File, s.File) {
		return fmt.Sprintf("%s:%d sets %s to %q and wins at boot over %s, so the host would boot with %s, not %s: remove that line, or change the value there.",
			r.Where.File, r.Where.Line, sysctl.ReservedKey, r.Value, s.File, boots, portsText(list))
	}
	return fmt.Sprintf("After a reboot the host would boot with %s, not reserved ports %s.", boots, portsText(list))
}

// bootText is the boot value and where it comes from, in words.
func bootText(b sysctl.Boot) string {
	switch {
	case b.Set && b.Range != nil:
		return fmt.Sprintf("%s (%s:%d)", rangeText(*b.Range), b.Where.File, b.Where.Line)
	case b.Dropped:
		return fmt.Sprintf("the kernel default %s (%s:%d drops the key)", rangeText(sysctl.DefaultRange), b.Where.File, b.Where.Line)
	}
	return "the kernel default " + rangeText(sysctl.DefaultRange)
}

func rangeText(r sysctl.Range) string { return fmt.Sprintf("%d–%d", r.Low, r.High) }

// sameFile reports whether the reader's listed path and the managed file
// are one file: the same path, or a link to it (systemd reads
// /etc/sysctl.conf as /etc/sysctl.d/99-sysctl.conf).
func sameFile(listed, managed string) bool {
	if listed == managed {
		return true
	}
	a, err := os.Stat(listed)
	if err != nil {
		return false
	}
	m, err := os.Stat(managed)
	return err == nil && os.SameFile(a, m)
}
