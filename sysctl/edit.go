package sysctl

import (
	"bytes"
	"fmt"
	"strings"
)

// MaxConfigSize is the largest config file portpanel reads for editing.
// systemd-sysctl skips the rest of a file at a line over 1 MiB.
const MaxConfigSize = 1 << 20

// UneditableError is a config file portpanel refuses to edit; Reason is a
// sentence for the admin.
type UneditableError struct{ Reason string }

func (e *UneditableError) Error() string { return e.Reason }

func checkEditable(content []byte) error {
	if len(content) > MaxConfigSize {
		return &UneditableError{Reason: fmt.Sprintf("the file is %d bytes, over the 1 MiB portpanel edits: edit it by hand or use a separate file", len(content))}
	}
	if bytes.IndexByte(content, 0) >= 0 {
		return &UneditableError{Reason: "the file contains NUL bytes, so it is not a text config file: portpanel does not edit it"}
	}
	return nil
}

// editLine is one "\n"-terminated line of the file being edited.
type editLine struct {
	text string // without the terminator
	eol  string // "\n", "\r\n", or "" for a last line without newline
}

func splitEditLines(content []byte) []editLine {
	var out []editLine
	s := string(content)
	for s != "" {
		line, rest, found := strings.Cut(s, "\n")
		l := editLine{text: line}
		if found {
			l.eol = "\n"
			if strings.HasSuffix(line, "\r") {
				l.text, l.eol = line[:len(line)-1], "\r\n"
			}
		}
		out = append(out, l)
		s = rest
	}
	return out
}

// keyEdit is one key the editor sets: the key, the value it writes, and
// whether a value already in the file makes the kernel hold the same (so
// the line may stay as it is).
type keyEdit struct {
	key   confKey
	value string
	holds func(v string) bool
}

func rangeEdit(r Range) keyEdit {
	return keyEdit{key: rangeConf, value: r.String(), holds: func(v string) bool {
		kr := kernelRange(v)
		return kr != nil && *kr == r
	}}
}

func reservedEdit(list string) keyEdit {
	return keyEdit{key: reservedConf, value: list, holds: func(v string) bool {
		got, reason := kernelReserved(v)
		return reason == "" && got == list
	}}
}

// line is the assignment the editor writes for e.
func (e keyEdit) line() string {
	return strings.TrimRight(e.key.dotted+" = "+e.value, " ") // an empty list: "K ="
}

// EditConfig sets Key to r in the config file content and returns the new
// content and notes on what else it changed. It rewrites the assignment
// that wins (the last one) in place, comments out earlier ones and bare
// "-key" lines, or adds the key after a commented-out example of it, or at
// the end. Every other byte stays as it was. A line written into a CRLF
// file ends in CRLF.
func EditConfig(content []byte, r Range) (after []byte, notes []string, err error) {
	if err := checkBounds(r); err != nil {
		return nil, nil, err
	}
	return editKey(content, rangeEdit(r))
}

// EditReservedPorts sets ReservedKey to list in content as EditConfig sets
// the range. list must be written as the kernel prints it (sorted, merged;
// "" for none: the line then clears the set at boot), so that the file
// says what the kernel will show; any such list is accepted, port 0
// included, as a rollback restores whatever the kernel held.
func EditReservedPorts(content []byte, list string) (after []byte, notes []string, err error) {
	if got, reason := kernelReserved(list); reason != "" || got != list || strings.ContainsAny(list, " \t\n") {
		return nil, nil, invalid("reserved_ports", "format", "reserved ports %q are not written as the kernel prints them (%s)", list, firstNonEmpty(reason, "sorted and merged, like "+got))
	}
	return editKey(content, reservedEdit(list))
}

// EditTarget sets everything t names: the range, and the reserved ports
// when t sets them, in one new content (written by one atomic write).
func EditTarget(content []byte, t Target) (after []byte, notes []string, err error) {
	after, notes, err = EditConfig(content, t.Range)
	if err != nil || t.Reserved == nil {
		return after, notes, err
	}
	after, more, err := EditReservedPorts(after, *t.Reserved)
	if err != nil {
		return nil, nil, err
	}
	// The second edit leaves every line but its key's alone; checked
	// again all the same, as the file is what the host boots with.
	if err := checkEdited(after, rangeEdit(t.Range)); err != nil {
		return nil, nil, err
	}
	return after, append(notes, more...), nil
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// editKey sets e's key in content: see EditConfig.
func editKey(content []byte, e keyEdit) (after []byte, notes []string, err error) {
	k := e.key
	if err := checkEditable(content); err != nil {
		return nil, nil, err
	}
	lines := splitEditLines(content)
	nl := "\n"
	if len(lines) > 0 && lines[0].eol == "\r\n" {
		nl = "\r\n"
	}
	sets := make([]setting, len(lines))
	win, example := -1, -1
	for i, l := range lines {
		if err := checkLoneCR(l.text, i+1, k); err != nil {
			return nil, nil, err
		}
		sets[i] = editSetting(l.text, k)
		switch {
		case sets[i].kind == lineAssign:
			win = i
		case isCommentedKey(l.text, k):
			example = i
		}
	}

	out := make([]string, 0, len(lines)+2)
	for i, l := range lines {
		n := i + 1
		switch s := sets[i]; {
		case s.kind == lineAssign && i == win:
			rewritten, more := rewriteLine(l, s, e, n, nl)
			out = append(out, rewritten...)
			notes = append(notes, more...)
			continue
		case s.kind == lineAssign:
			notes = append(notes, fmt.Sprintf("commented out earlier assignment on line %d", n))
			out = append(out, "# "+l.text+l.eol)
			continue
		case s.kind == lineDrop:
			notes = append(notes, fmt.Sprintf("commented out \"-%s\" on line %d: systemd-sysctl would drop the key and never set it at boot", s.key, n))
			out = append(out, "# "+l.text+l.eol)
			continue
		case s.kind == lineGlob:
			notes = append(notes, fmt.Sprintf("line %d sets a pattern that also matches %s; the explicit assignment takes precedence, so it was left alone", n, k.dotted))
		case i == 0 && strings.HasPrefix(l.text, "\ufeff") && editSetting(l.text[3:], k).kind != lineOther:
			notes = append(notes, fmt.Sprintf("line 1 starts with a UTF-8 byte order mark, so neither sysctl nor systemd-sysctl reads the %s on it; it was left alone", k.dotted))
		}
		out = append(out, l.text+l.eol)
	}
	if win < 0 {
		at, where := len(out), "at the end"
		if example >= 0 {
			at, where = example+1, fmt.Sprintf("after the commented-out example on line %d", example+1)
		}
		if at > 0 && !strings.HasSuffix(out[at-1], "\n") {
			out[at-1] += nl
		}
		out = append(out[:at], append([]string{e.line() + nl}, out[at:]...)...)
		notes = append(notes, fmt.Sprintf("added %s %s", e.line(), where))
	}
	after = []byte(strings.Join(out, ""))
	if err := checkEdited(after, e); err != nil {
		return nil, nil, err
	}
	return after, notes, nil
}

// editSetting is what either reader sees on a line: the editor treats a
// line as the key's if either tool does.
func editSetting(text string, k confKey) setting {
	p, s := parseSetting(text, ReaderProcps, k), parseSetting(systemdFirst(text), ReaderSystemd, k)
	for _, kind := range []lineKind{lineAssign, lineDrop, lineGlob} {
		if p.kind == kind {
			return p
		}
		if s.kind == kind {
			return s
		}
	}
	return setting{}
}

// rewriteLine writes the winning line with e's value, keeping its
// indentation, "-" prefix and key spelling. A value that is already
// whitespace-equal leaves the line untouched; an inline "# note" after the
// value moves onto its own line above.
func rewriteLine(l editLine, s setting, e keyEdit, n int, nl string) ([]string, []string) {
	k := e.key
	value, comment := splitInlineComment(s.value)
	p, sd := parseSetting(l.text, ReaderProcps, k), parseSetting(systemdFirst(l.text), ReaderSystemd, k)
	bothSee := p.kind == lineAssign && sd.kind == lineAssign && canonicalKey(p.key, k) && canonicalKey(sd.key, k) &&
		p.value == sd.value
	if bothSee && Equal(value, e.value) && e.holds(p.value) {
		return []string{l.text + l.eol}, nil
	}
	indent := l.text[:len(l.text)-len(strings.TrimLeft(l.text, " \t"))]
	key, dash := s.key, ""
	if !canonicalKey(key, k) {
		key = k.dotted // an odd spelling might not be read by one of the tools
	}
	if s.dash {
		dash = "-"
	}
	var out, notes []string
	if comment != "" {
		eol := l.eol
		if eol == "" {
			eol = nl
		}
		out = append(out, indent+"# "+comment+eol)
		notes = append(notes, fmt.Sprintf("moved the comment after the value on line %d onto its own line above it", n))
	}
	out = append(out, strings.TrimRight(indent+dash+key+" = "+e.value, " ")+l.eol)
	notes = append(notes, fmt.Sprintf("changed line %d from %q to %q", n, s.value, e.value))
	return out, notes
}

// splitInlineComment splits "2000 64001 # note" at a "#" that starts a
// word. Both tools send such a value to the kernel verbatim, which ignores
// everything after the second number.
func splitInlineComment(v string) (value, comment string) {
	for i := 0; i < len(v); i++ {
		if v[i] == '#' && (i == 0 || v[i-1] == ' ' || v[i-1] == '\t') {
			return strings.TrimRight(v[:i], " \t"), strings.TrimSpace(v[i+1:])
		}
	}
	return v, ""
}

// isCommentedKey reports a commented-out assignment of k, such as
// "# net.ipv4.ip_local_port_range = 32768 60999" or "; net/ipv4/...=".
func isCommentedKey(text string, k confKey) bool {
	t := strings.TrimLeft(text, " \t")
	if t == "" || (t[0] != '#' && t[0] != ';') {
		return false
	}
	t = strings.TrimLeft(t, "#; \t")
	s := parseSetting(t, ReaderProcps, k)
	return s.kind == lineAssign
}

// systemdFirst is the part of a line systemd-sysctl reads before a lone
// "\r", where it starts a new line.
func systemdFirst(text string) string {
	first, _, _ := strings.Cut(text, "\r")
	return first
}

// checkLoneCR refuses a line that systemd-sysctl, which also ends lines at
// a lone "\r", reads as several lines one of which is about the key: a "# "
// prefix would not comment that part out.
func checkLoneCR(text string, n int, k confKey) error {
	parts := strings.Split(text, "\r")
	for _, p := range parts[1:] {
		if parseSetting(p, ReaderSystemd, k).kind != lineOther {
			return &UneditableError{Reason: fmt.Sprintf("line %d contains a carriage return in the middle, and systemd-sysctl reads the part after it as a separate line about %s: fix that line by hand", n, k.dotted)}
		}
	}
	return nil
}

// checkEdited is a last safety net: both readers must find exactly e's
// value in the edited content.
func checkEdited(content []byte, e keyEdit) error {
	for _, rd := range []Reader{ReaderProcps, ReaderSystemd} {
		lines, _ := scanKey(content, rd, e.key)
		var value *string
		for _, l := range lines {
			switch {
			case l.kind == lineAssign:
				v := l.value
				value = &v
			case l.kind == lineDrop && rd == ReaderSystemd:
				value = nil
			}
		}
		if value == nil || !e.holds(*value) {
			return &UneditableError{Reason: fmt.Sprintf("portpanel could not edit this file so that %s reads %s: edit it by hand", readerName(rd), e.line())}
		}
	}
	return nil
}
