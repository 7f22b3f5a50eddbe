package sysctl

import (
	"os"
	"path"
	"strings"
)

// The two readers turn config lines into writes differently. This file
// models each one's parser and write order, from their sources:
//
//   - procps-ng 4.0.2, src/sysctl.c: PreloadSystem() and Preload() read
//     every file into one list, parse_setting_line() splits each line;
//     write_setting_list() then writes EVERY assignment in list order,
//     expanding patterns against /proc/sys and skipping a match that any
//     line of the list names exactly (settinglist_findpath()).
//   - systemd 252, src/sysctl/sysctl.c: parse_file() keeps ONE entry per
//     key in an ordered hash map (a later different value removes the
//     entry and appends a new one; an equal value keeps the old entry and
//     its place), keys normalized by sysctl_normalize(); apply_all() then
//     writes each entry once, in map order, a pattern to every match that
//     has no entry of its own.
//
// Both write the value plus "\n" to /proc/sys/<key>, which the kernel
// model judges (kernelmodel.go).

// target is a sysctl the replay tracks.
type tracked int

const (
	targetNone tracked = iota
	targetRange
	targetUnpriv
	targetReserved
)

// procSys is where the readers write, whatever Kernel.ProcSys says: the
// replay looks there for the keys a pattern matches.
const procSys = "/proc/sys"

// sysctlWrite is one write a reader makes.
type sysctlWrite struct {
	tracked tracked
	value   string
	where   Location
	glob    bool
}

// confLine is a line of a config file as a reader sees it.
type confLine struct {
	text  string
	where Location
}

// targetOf says which tracked file the kernel opens for path (a path the
// reader opens, starting with /proc/sys/): it must exist as that very
// file, so a trailing "/" or "/." (ENOTDIR) or a missing directory on the
// way names nothing. Paths whose last component is neither file name are
// not looked up at all.
func targetOf(p string) tracked {
	name := p[strings.LastIndexByte(p, '/')+1:]
	var want string
	var t tracked
	switch name {
	case path.Base(rangeFile):
		want, t = rangeFile, targetRange
	case path.Base(unprivFile):
		want, t = unprivFile, targetUnpriv
	case path.Base(reservedFile):
		want, t = reservedFile, targetReserved
	default:
		return targetNone
	}
	fi, err := os.Stat(p)
	if err != nil || !fi.Mode().IsRegular() {
		return targetNone
	}
	wi, err := os.Stat(procSys + "/" + want)
	if err != nil || !os.SameFile(fi, wi) {
		return targetNone
	}
	return t
}

// procpsNode is one entry of procps' setting list.
type procpsNode struct {
	path    string // "/proc/sys/" + key, separators swapped by slashdot()
	value   string
	exclude bool // "-key" without "=": only hides the key from patterns
	where   Location
}

// procpsParse is parse_setting_line(): it returns false for a line that
// is skipped (blank, comment, too short, not an assignment).
func procpsParse(l confLine) (procpsNode, bool) {
	key := strings.TrimLeft(l.text, procpsSpace)
	if len(key) < 2 || key[0] == '#' || key[0] == ';' {
		return procpsNode{}, false
	}
	n := procpsNode{where: l.where}
	k, v, hasValue := strings.Cut(key, "=")
	if !hasValue {
		if k[0] != '-' {
			return procpsNode{}, false // "invalid syntax, continuing..."
		}
		n.exclude = true
		k = strings.TrimRight(k[1:], procpsSpace)
	} else {
		// " = v" has an empty key: procps names /proc/sys/ itself, a
		// directory it does not write.
		if k != "" && k[0] == '-' {
			k = k[1:]
		}
		n.value = strings.Trim(v, procpsSpace)
		k = strings.TrimRight(k, procpsSpace)
	}
	// setting_new() drops one more "-" from the path, so "--key = v"
	// names key.
	k = strings.TrimPrefix(k, "-")
	n.path = procSys + "/" + slashdot(k) // slashdot(path, '.', '/') on the key part
	return n, true
}

// procpsWrites is write_setting_list() over the lines of all files. globs
// are the pattern lines that match each tracked key.
func procpsWrites(lines []confLine) (writes []sysctlWrite, globs map[tracked][]Location) {
	globs = map[tracked][]Location{}
	var nodes []procpsNode
	named := map[string]bool{}
	for _, l := range lines {
		if n, ok := procpsParse(l); ok {
			nodes = append(nodes, n)
			named[n.path] = true
		}
	}
	for _, n := range nodes {
		if n.exclude {
			continue
		}
		if !hasGlobChars(n.path) {
			if t := targetOf(n.path); t != targetNone {
				writes = append(writes, sysctlWrite{tracked: t, value: n.value, where: n.where})
			}
			continue
		}
		for _, m := range realFS.glob(n.path) {
			t := targetOf(m)
			if t != targetNone {
				globs[t] = append(globs[t], n.where)
			}
			if t == targetNone || named[m] {
				continue // someone else's key, or an explicit line (or "-key") overrides the pattern
			}
			writes = append(writes, sysctlWrite{tracked: t, value: n.value, where: n.where, glob: true})
		}
	}
	return writes, globs
}

// systemdEntry is one entry of systemd-sysctl's ordered map.
type systemdEntry struct {
	key   string
	value *string // nil: "-key", a negative match (drops the key, excludes it from patterns)
	where Location
}

// systemdParse is the per-line part of parse_file().
func systemdParse(l confLine) (systemdEntry, bool) {
	p := strings.Trim(l.text, systemdSpace)
	if p == "" || strings.ContainsRune("#;\n", rune(p[0])) {
		return systemdEntry{}, false
	}
	e := systemdEntry{where: l.where}
	k, v, hasValue := strings.Cut(p, "=")
	switch {
	case hasValue:
		v = strings.Trim(v, systemdSpace)
		e.value = &v
		k = strings.TrimPrefix(k, "-")
	case k[0] == '-':
		k = k[1:]
	default:
		return systemdEntry{}, false // "Line is not an assignment, ignoring"
	}
	e.key = systemdNormalize(strings.Trim(k, systemdSpace))
	return e, true
}

// systemdNormalize is sysctl_normalize(): swap dots and slashes if the
// first separator is a dot, path_simplify(), drop a leading slash.
func systemdNormalize(k string) string {
	k = pathSimplify(slashdot(k))
	if len(k) > 1 && k[0] == '/' {
		k = k[1:]
	}
	return k
}

// pathSimplify is systemd's path_simplify(): repeated slashes and "."
// components go, and a trailing slash; ".." stays.
func pathSimplify(p string) string {
	if p == "" {
		return p
	}
	abs := p[0] == '/'
	var parts []string
	for _, c := range strings.Split(p, "/") {
		if c != "" && c != "." {
			parts = append(parts, c)
		}
	}
	s := strings.Join(parts, "/")
	if abs {
		return "/" + s
	}
	if s == "" {
		return "."
	}
	return s
}

// systemdOpenTarget is sysctl_write()'s path check: "/proc/sys/" + key,
// simplified; a ".." component makes it EINVAL before anything is opened.
func systemdOpenTarget(key string) tracked {
	p := pathSimplify(procSys + "/" + key)
	for _, c := range strings.Split(p, "/") {
		if c == ".." {
			return targetNone
		}
	}
	return targetOf(p)
}

// systemdWrites is parse_file() over the lines of all files, then
// apply_all(). globs are the pattern lines that match each tracked key,
// drops the "-key" line that drops it.
func systemdWrites(lines []confLine) (writes []sysctlWrite, globs, drops map[tracked][]Location) {
	globs, drops = map[tracked][]Location{}, map[tracked][]Location{}
	var entries []systemdEntry
	index := map[string]int{}
	for _, l := range lines {
		e, ok := systemdParse(l)
		if !ok {
			continue
		}
		if i, ok := index[e.key]; ok {
			old := entries[i]
			if (old.value == nil && e.value == nil) || (old.value != nil && e.value != nil && *old.value == *e.value) {
				continue // same value: the earlier entry stays where it is
			}
			entries[i].key = "" // removed; a new entry goes at the end
		}
		index[e.key] = len(entries)
		entries = append(entries, e)
	}
	for _, e := range entries {
		if e.key == "" {
			continue
		}
		if e.value == nil {
			if t := systemdOpenTarget(e.key); t != targetNone {
				drops[t] = append(drops[t], e.where)
			}
			continue
		}
		if !hasGlobChars(e.key) {
			if t := systemdOpenTarget(e.key); t != targetNone {
				writes = append(writes, sysctlWrite{tracked: t, value: *e.value, where: e.where})
			}
			continue
		}
		// glob_extend() with GLOB_NOCHECK: no match leaves the pattern
		// itself, which names no file.
		for _, m := range realFS.glob(procSys + "/" + e.key) {
			key := strings.TrimLeft(strings.TrimPrefix(m, procSys), "/")
			t := systemdOpenTarget(key)
			if t != targetNone {
				globs[t] = append(globs[t], e.where)
			}
			if _, explicit := index[key]; explicit && entries[index[key]].key != "" {
				continue // "Not setting %s (explicit setting exists)."
			}
			if t != targetNone {
				writes = append(writes, sysctlWrite{tracked: t, value: *e.value, where: e.where, glob: true})
			}
		}
	}
	return writes, globs, drops
}
