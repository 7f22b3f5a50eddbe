package sysctl

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Report explains the boot value under reader r and whether a value
// written to managed (an absolute path, normally under Root) would survive
// a reboot. Files are resolved as if managed existed, so the answer holds
// before portpanel creates it.
func (c Config) Report(managed string, r Reader) (BootReport, error) {
	if err := checkReader(r); err != nil {
		return BootReport{}, err
	}
	boot, _ := c.Boot(r)
	other, _ := c.Boot(otherReader(r))
	rep := BootReport{Reader: r, Boot: boot, Other: other}

	real := c.realPath(managed)
	files, _ := c.list(r, real)
	last := -1
	for i, f := range files {
		if f.state == fileOK && f.resolved == real {
			last = i
		}
	}
	rep.ManagedRead = last >= 0
	if !rep.ManagedRead {
		rep.Warnings = append(rep.Warnings, c.notRead(managed, real, r, files))
	} else {
		rep.OverriddenBy = c.overriddenBy(managed, real, r, boot)
		if o := rep.OverriddenBy; o != nil {
			rep.Warnings = append(rep.Warnings, fmt.Sprintf(
				"%s also sets %s and %s reads it after %s, so its value wins at boot: remove that line, or change the value there.",
				c.loc(*o), Key, readerName(r), c.display(managed)))
		}
	}
	for _, b := range []Boot{boot, other} {
		if b.Dropped {
			rep.Warnings = append(rep.Warnings, fmt.Sprintf(
				"%s has a bare \"-%s\" line: systemd-sysctl drops the key and never sets it at boot; comment that line out.",
				c.loc(b.Where), Key))
		}
	}
	if !sameBoot(boot, other) {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf(
			"The boot readers disagree: %s (used here) leaves %s, but %s would leave %s.",
			readerName(r), c.describe(boot), readerName(other.Reader), c.describe(other)))
	}
	if boot.Set && slices.Contains(boot.Globs, boot.Where) {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("%s sets %s through a pattern: that line decides the boot value.", c.loc(boot.Where), Key))
	}
	for _, w := range boot.Refused {
		rep.BootWarnings = append(rep.BootWarnings, fmt.Sprintf("%s sets %q, which the kernel refuses at boot (%s): the value before it stays.", c.loc(w.Where), w.Value, w.Reason))
	}
	for _, u := range boot.Uncertain {
		rep.BootWarnings = append(rep.BootWarnings, "Boot value uncertain: "+u+".")
	}
	return rep, nil
}

// overriddenBy returns the write that would win at boot over a value
// written to managed, found by replaying with managed holding a probe
// value: nil when managed's value would win, is refused, or could not be
// planned. The probe is a valid range no config file is likely to hold:
// systemd keeps the earlier of two equal assignments, which would hide a
// later file that sets the same value.
func (c Config) overriddenBy(managed, real string, r Reader, boot Boot) *Location {
	probe := Range{Low: 49153, High: 65534}
	before, err := os.ReadFile(real)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	after, _, err := EditConfig(before, probe)
	if err != nil {
		return nil
	}
	b, err := c.replay(r, real, after)
	if err != nil || !b.Set {
		return nil
	}
	winner, _, err := c.resolve(b.Where.File)
	if err != nil || winner == real {
		return nil
	}
	// A winner read before managed means the probe was refused there, not
	// overridden (the review page explains refusals).
	for _, f := range b.Files[b.fileIndex(b.Where.File)+1:] {
		if rf, _, err := c.resolve(f); err == nil && rf == real {
			return nil
		}
	}
	w := b.Where
	return &w
}

// realPath resolves managed like the readers resolve their files.
func (c Config) realPath(managed string) string {
	managed = filepath.Clean(managed)
	if real, _, err := c.resolve(managed); err == nil {
		return real
	}
	if real, err := filepath.EvalSymlinks(managed); err == nil {
		return real
	}
	return managed
}

// notRead explains why r does not read managed.
func (c Config) notRead(managed, real string, r Reader, files []confFile) string {
	m := c.display(managed)
	if r == ReaderSystemd && real == c.path(sysctlConf) {
		return fmt.Sprintf("systemd-sysctl does not read %s: without /etc/sysctl.d/99-sysctl.conf linking to it, a change written there is lost at reboot.", m)
	}
	name := filepath.Base(real)
	for _, f := range files {
		if c.isReaderDir(filepath.Dir(real), r) && filepath.Base(f.listed) == name && f.resolved != real {
			return fmt.Sprintf("%s does not read %s: %s has the same file name and is found first, so it hides %s; a change written there is lost at reboot.",
				readerName(r), m, c.display(f.listed), m)
		}
	}
	if r == ReaderSystemd && strings.HasPrefix(name, ".") {
		return fmt.Sprintf("systemd-sysctl skips hidden files such as %s: a change written there is lost at reboot.", m)
	}
	where := strings.Join(readerDirs(r), ", ")
	if r == ReaderProcps {
		where += " and the file " + sysctlConf
	}
	return fmt.Sprintf("%s does not read %s (it reads *.conf files in %s): a change written there is lost at reboot.", readerName(r), m, where)
}

func sameBoot(a, b Boot) bool {
	if a.Set != b.Set {
		return false
	}
	return !a.Set || *a.Range == *b.Range
}

func (c Config) describe(b Boot) string {
	switch {
	case b.Set:
		return fmt.Sprintf("%s from %s", b.Range, c.loc(b.Where))
	case b.Dropped:
		return fmt.Sprintf("the kernel default (%s drops the key)", c.loc(b.Where))
	}
	return "the kernel default (no file sets a value it accepts)"
}

func (c Config) loc(l Location) string { return fmt.Sprintf("%s:%d", c.display(l.File), l.Line) }

// isReaderDir reports whether the real directory dir is one r scans.
func (c Config) isReaderDir(dir string, r Reader) bool {
	for _, d := range readerDirs(r) {
		if real, _, err := c.resolve(c.path(d)); err == nil && real == dir {
			return true
		}
	}
	return false
}
