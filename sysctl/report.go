package sysctl

import (
	"fmt"
	"path/filepath"
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
		rep.OverriddenBy = c.firstAssignment(files[last+1:], r)
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
			"The boot readers disagree: %s (used here) applies %s, but %s would apply %s.",
			readerName(r), c.describe(boot), readerName(other.Reader), c.describe(other)))
	}
	for _, g := range boot.Globs {
		if boot.Set || boot.Dropped {
			rep.Warnings = append(rep.Warnings, fmt.Sprintf("%s sets a pattern that matches %s; the explicit assignment takes precedence over it.", c.loc(g), Key))
		} else {
			rep.Warnings = append(rep.Warnings, fmt.Sprintf("%s sets %s through a pattern, which portpanel does not evaluate: with no explicit assignment, that line decides the boot value.", c.loc(g), Key))
		}
	}
	if boot.Set && boot.Range == nil {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("The boot value %q (%s) is not a range the kernel accepts: it will be refused at boot.", boot.Value, c.loc(boot.Where)))
	}
	return rep, nil
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

// firstAssignment returns the first explicit assignment of Key in files.
func (c Config) firstAssignment(files []confFile, r Reader) *Location {
	for _, f := range files {
		if f.state != fileOK {
			continue
		}
		lines, _ := c.scanFile(f, r)
		for _, l := range lines {
			if l.kind == lineAssign {
				return &Location{File: f.listed, Line: l.line}
			}
		}
	}
	return nil
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
	return !a.Set || Equal(a.Value, b.Value)
}

func (c Config) describe(b Boot) string {
	switch {
	case b.Set:
		return fmt.Sprintf("%q from %s", b.Value, c.loc(b.Where))
	case b.Dropped:
		return fmt.Sprintf("nothing (%s drops the key)", c.loc(b.Where))
	}
	return "nothing (no file sets it)"
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
