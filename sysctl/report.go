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
		rep.OverriddenBy = c.overriddenBy(real, r)
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
	c.reportReserved(&rep, managed, real)
	return rep, nil
}

// reportReserved adds to rep what concerns ip_local_reserved_ports: the
// same questions as for the range, the override one only once the
// managed file sets the key (else no value written there is at stake).
func (c Config) reportReserved(rep *BootReport, managed, real string) {
	boot, other := rep.Boot.Reserved, rep.Other.Reserved
	if rep.ManagedRead && managedSets(real, reservedConf) {
		rep.ReservedOverriddenBy = c.overriddenByKey(real, rep.Reader, func(b []byte) ([]byte, error) {
			after, _, err := EditReservedPorts(b, reservedProbe)
			return after, err
		}, func(b Boot) (Location, bool) { return b.Reserved.Where, b.Reserved.Set })
		if o := rep.ReservedOverriddenBy; o != nil {
			rep.Warnings = append(rep.Warnings, fmt.Sprintf(
				"%s also sets %s and %s reads it after %s, so its value wins at boot: remove that line, or change the value there.",
				c.loc(*o), ReservedKey, readerName(rep.Reader), c.display(managed)))
		}
	}
	for _, b := range []ReservedBoot{boot, other} {
		if b.Dropped && !b.Set {
			rep.Warnings = append(rep.Warnings, fmt.Sprintf(
				"%s has a bare \"-%s\" line: systemd-sysctl drops the key and never sets it at boot; comment that line out.",
				c.loc(b.Where), ReservedKey))
			break
		}
	}
	if boot.Ports != other.Ports {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf(
			"The boot readers disagree on %s: %s (used here) leaves %s, but %s would leave %s.",
			ReservedKey, readerName(rep.Reader), c.describeReserved(boot), readerName(rep.Other.Reader), c.describeReserved(other)))
	}
	for _, w := range boot.Refused {
		rep.BootWarnings = append(rep.BootWarnings, fmt.Sprintf("%s sets %s to %q, which the kernel refuses at boot (%s): the list before it stays.",
			c.loc(w.Where), ReservedKey, w.Value, w.Reason))
	}
}

// reservedProbe is a list no config file is likely to hold (see
// overriddenBy).
const reservedProbe = "49157,65531"

// managedSets reports whether the file at real assigns k.
func managedSets(real string, k confKey) bool {
	content, err := os.ReadFile(real)
	if err != nil {
		return false
	}
	for _, rd := range []Reader{ReaderProcps, ReaderSystemd} {
		lines, _ := scanKey(content, rd, k)
		for _, l := range lines {
			if l.kind == lineAssign {
				return true
			}
		}
	}
	return false
}

func (c Config) describeReserved(b ReservedBoot) string {
	list := "no reserved ports"
	if b.Ports != "" {
		list = b.Ports
	}
	switch {
	case b.Set:
		return fmt.Sprintf("%s from %s", list, c.loc(b.Where))
	case b.Dropped:
		return fmt.Sprintf("the kernel default, no reserved ports (%s drops the key)", c.loc(b.Where))
	}
	return "the kernel default, no reserved ports"
}

// overriddenBy returns the write that would win at boot over a value
// written to managed, found by replaying with managed holding a probe
// value: nil when managed's value would win, is refused, or could not be
// planned. The probe is a valid range no config file is likely to hold:
// systemd keeps the earlier of two equal assignments, which would hide a
// later file that sets the same value.
func (c Config) overriddenBy(real string, r Reader) *Location {
	probe := Range{Low: 49153, High: 65534}
	return c.overriddenByKey(real, r, func(b []byte) ([]byte, error) {
		after, _, err := EditConfig(b, probe)
		return after, err
	}, func(b Boot) (Location, bool) { return b.Where, b.Set })
}

// overriddenByKey is overriddenBy for any key: edit writes the probe into
// the managed file's content, won says which write set the key in a
// replay.
func (c Config) overriddenByKey(real string, r Reader, edit func([]byte) ([]byte, error), won func(Boot) (Location, bool)) *Location {
	before, err := os.ReadFile(real)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	after, err := edit(before)
	if err != nil {
		return nil
	}
	b, err := c.replay(r, real, after)
	if err != nil {
		return nil
	}
	where, set := won(b)
	if !set {
		return nil
	}
	winner, _, err := c.resolve(where.File)
	if err != nil || winner == real {
		return nil
	}
	// A winner read before managed means the probe was refused there, not
	// overridden (the review page explains refusals).
	for _, f := range b.Files[b.fileIndex(where.File)+1:] {
		if rf, _, err := c.resolve(f); err == nil && rf == real {
			return nil
		}
	}
	return &where
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
